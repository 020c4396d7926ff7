// oneDNN convolution timing on NCHW tensors, the way mpq's executor calls it (docs/benchmarks.md compares
// it with `mpq-benchmark --conv` on the same shapes). "plain" forces nchw src/dst; "blocked" lets oneDNN
// choose (nChw16c / nhwc) and includes the src/dst reorders; "nChw16c" forces 16-channel blocks (an input
// whose channels are not a multiple of 16 stays nchw), as `OneDNNConvolution.activationLayouts` asks;
// "primitive alone" excludes the reorders. Weights are reordered once. Build: gcc -O2 -o /tmp/onednn-conv benchmarks/onednn_conv_timing.c -ldnnl
// Usage: OMP_NUM_THREADS=1 /tmp/onednn-conv N C H W OC KH KW S PAD G [iters]
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define CHECK(x) do { dnnl_status_t s = (x); if (s != dnnl_success) { fprintf(stderr, "%s failed: %d\n", #x, s); exit(1); } } while (0)
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static dnnl_engine_t eng; static dnnl_stream_t strm;

static void reorder(dnnl_memory_t from, dnnl_memory_t to) {
    const dnnl_memory_desc_t *fmd, *tmd;
    dnnl_memory_get_memory_desc(from, &fmd); dnnl_memory_get_memory_desc(to, &tmd);
    dnnl_primitive_desc_t rpd; dnnl_primitive_t r;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, fmd, eng, tmd, eng, NULL));
    CHECK(dnnl_primitive_create(&r, rpd));
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    CHECK(dnnl_primitive_execute(r, strm, 2, a)); dnnl_stream_wait(strm);
    dnnl_primitive_destroy(r); dnnl_primitive_desc_destroy(rpd);
}

int main(int argc, char **argv) {
    int n = atoi(argv[1]), c = atoi(argv[2]), h = atoi(argv[3]), w = atoi(argv[4]), oc = atoi(argv[5]);
    int kh = atoi(argv[6]), kw = atoi(argv[7]), s = atoi(argv[8]), p = atoi(argv[9]), g = atoi(argv[10]);
    int iters = argc > 11 ? atoi(argv[11]) : 20;
    int oh = (h + 2 * p - kh) / s + 1, ow = (w + 2 * p - kw) / s + 1;
    CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CHECK(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));
    dnnl_dims_t sd = {n, c, h, w}, dd = {n, oc, oh, ow}, bd = {oc};
    dnnl_dims_t wd5 = {g, oc / g, c / g, kh, kw}, wd4 = {oc, c, kh, kw};
    dnnl_dims_t st = {s, s}, dil = {0, 0}, pl = {p, p}, pr = {p, p};
    dnnl_memory_desc_t src_plain, dst_plain, w_plain, b_md, src_any, dst_any, w_any;
    dnnl_memory_desc_init_by_tag(&src_plain, 4, sd, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(&dst_plain, 4, dd, dnnl_f32, dnnl_nchw);
    if (g > 1) { dnnl_memory_desc_init_by_tag(&w_plain, 5, wd5, dnnl_f32, dnnl_goihw); dnnl_memory_desc_init_by_tag(&w_any, 5, wd5, dnnl_f32, dnnl_format_tag_any); }
    else { dnnl_memory_desc_init_by_tag(&w_plain, 4, wd4, dnnl_f32, dnnl_oihw); dnnl_memory_desc_init_by_tag(&w_any, 4, wd4, dnnl_f32, dnnl_format_tag_any); }
    dnnl_memory_desc_init_by_tag(&b_md, 1, bd, dnnl_f32, dnnl_x);
    dnnl_memory_desc_init_by_tag(&src_any, 4, sd, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&dst_any, 4, dd, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_t src_b, dst_b; dnnl_memory_desc_init_by_tag(&src_b, 4, sd, dnnl_f32, c % 16 == 0 ? dnnl_nChw16c : dnnl_nchw); dnnl_memory_desc_init_by_tag(&dst_b, 4, dd, dnnl_f32, dnnl_nChw16c);
    double flops = 2.0 * n * oc * oh * ow * (c / g) * kh * kw;
    // ReLU post-op, as the executor fuses activations.
    dnnl_post_ops_t po; dnnl_post_ops_create(&po); dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0, 0);
    dnnl_primitive_attr_t attr; dnnl_primitive_attr_create(&attr); dnnl_primitive_attr_set_post_ops(attr, po);
    for (int mode = 0; mode < (oc % 16 == 0 && g == 1 ? 3 : 2); mode++) {
        dnnl_convolution_desc_t cd;
        CHECK(dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
              mode == 0 ? &src_plain : mode == 1 ? &src_any : &src_b, &w_any, &b_md, mode == 0 ? &dst_plain : mode == 1 ? &dst_any : &dst_b, st, dil, pl, pr));
        dnnl_primitive_desc_t pd; CHECK(dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL));
        const char *impl; dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
        dnnl_primitive_t prim; CHECK(dnnl_primitive_create(&prim, pd));
        const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
        const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        const dnnl_memory_desc_t *dmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
        dnnl_memory_t xs, xw, xb, xd, ps, pw, pdst;
        CHECK(dnnl_memory_create(&ps, &src_plain, eng, DNNL_MEMORY_ALLOCATE));
        CHECK(dnnl_memory_create(&pw, &w_plain, eng, DNNL_MEMORY_ALLOCATE));
        CHECK(dnnl_memory_create(&pdst, &dst_plain, eng, DNNL_MEMORY_ALLOCATE));
        CHECK(dnnl_memory_create(&xs, smd, eng, DNNL_MEMORY_ALLOCATE));
        CHECK(dnnl_memory_create(&xw, wmd, eng, DNNL_MEMORY_ALLOCATE));
        CHECK(dnnl_memory_create(&xd, dmd, eng, DNNL_MEMORY_ALLOCATE));
        CHECK(dnnl_memory_create(&xb, &b_md, eng, DNNL_MEMORY_ALLOCATE));
        float *sp; dnnl_memory_get_data_handle(ps, (void **)&sp); for (long i = 0; i < (long)n * c * h * w; i++) sp[i] = (i % 7) * 0.1f;
        reorder(pw, xw);
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, xs}, {DNNL_ARG_WEIGHTS, xw}, {DNNL_ARG_BIAS, xb}, {DNNL_ARG_DST, xd}};
        double best = 1e9, bestPrim = 1e9;
        for (int it = 0; it < iters + 2; it++) {
            double t0 = now();
            if (mode >= 1) reorder(ps, xs);
            double t1 = now();
            CHECK(dnnl_primitive_execute(prim, strm, 4, args)); dnnl_stream_wait(strm);
            double t2 = now();
            if (mode >= 1) reorder(xd, pdst);
            double t3 = now();
            if (it >= 2) { if (t3 - t0 < best) best = t3 - t0; if (t2 - t1 < bestPrim) bestPrim = t2 - t1; }
        }
        if (mode == 0) printf("%-40s plain   %8.3f ms %6.1f GFLOP/s\n", impl, best * 1e3, flops / best / 1e9);
        else printf("%-40s %s %8.3f ms (with reorders) %6.1f GFLOP/s; primitive alone %8.3f ms %6.1f GFLOP/s\n", impl, mode == 1 ? "blocked" : "nChw16c", best * 1e3, flops / best / 1e9, bestPrim * 1e3, flops / bestPrim / 1e9);
    }
    return 0;
}

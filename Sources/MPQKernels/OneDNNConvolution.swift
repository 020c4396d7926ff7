import CDNNL
import Foundation

/// A oneDNN convolution primitive for one `Conv2DShape`, called on the executor's NCHW buffers.
///
/// oneDNN's JIT kernels (brgconv / brdgmm) want blocked layouts (nChw16c), so each call reorders the
/// input into the primitive's layout, runs it and reorders the result back; weights are reordered
/// per call, or once per weight array when the caller's layer keeps a `ConvolutionWeightCache`
/// (quantization hooks may hand in other weights between runs). Measured side by side
/// with the hand-written paths (docs/benchmarks.md), this wins — reorders included — on dense
/// convolutions with a spatial kernel (ResNet's 3×3 and 7×7: 1.2–2×) and on depthwise convolutions
/// over tiny planes (mobilenet-digits' 4×4: 10×); it loses on 1×1 products (the
/// reorders cost more than the product) and on depthwise convolutions over large planes.
///
/// Each instance runs on the calling thread only (one OpenMP thread): on the shared 2-vCPU machine
/// oneDNN's OpenMP barriers cost up to 70× on small depthwise layers when the other vCPU was busy
/// (0.32 ms → 24 ms), so `Conv2D` cuts the batch into two halves, a split that depends on the batch
/// size alone, and runs them on its own threads: results are the same for every thread count.
/// Scratch buffers come from a small process-wide pool (one set per concurrent call, grown to the
/// largest layer), so one instance may run from several threads at once and memory stays bounded
/// by the largest layer rather than the sum over layers.
public final class OneDNNConvolution: @unchecked Sendable {
    public let shape: Conv2DShape
    /// The activation the primitive applies as a post-op while the output is in registers (ReLU and Clip); nil
    /// when the caller's activation is applied after the primitive, on the NCHW result.
    public let fusedActivation: Activation?
    /// Which sides the caller hands over blocked (no reorder on those sides).
    public let layout: ConvolutionLayout
    /// When set, the output buffer holds a residual on entry that the primitive adds to its result (a sum post-op),
    /// then applies this activation (as a post-op when oneDNN has it, else after the primitive).
    public let residualActivation: Activation?
    /// Bytes of each scratch buffer a call needs: blocked input, blocked output, scratchpad, weights.
    private var scratchBytes: [Int] = []
    let primitive: dnnl_primitive_t
    let srcReorder: dnnl_primitive_t?
    let dstReorder: dnnl_primitive_t?
    let weightReorder: dnnl_primitive_t?
    /// Plain (NCHW / OIHW) and primitive layouts, and the scratchpad, in one allocation (the C API
    /// takes pointers to them).
    private let descs: UnsafeMutablePointer<dnnl_memory_desc_t>
    private var plainSrc: UnsafeMutablePointer<dnnl_memory_desc_t> { descs }
    private var plainDst: UnsafeMutablePointer<dnnl_memory_desc_t> { descs + 1 }
    private var plainWeights: UnsafeMutablePointer<dnnl_memory_desc_t> { descs + 2 }
    private var src: UnsafeMutablePointer<dnnl_memory_desc_t> { descs + 3 }
    private var dst: UnsafeMutablePointer<dnnl_memory_desc_t> { descs + 4 }
    private var weights: UnsafeMutablePointer<dnnl_memory_desc_t> { descs + 5 }
    private var bias: UnsafeMutablePointer<dnnl_memory_desc_t> { descs + 6 }
    private var scratchpad: UnsafeMutablePointer<dnnl_memory_desc_t> { descs + 7 }

    /// False when `MPQ_CONV=native`: every convolution then takes the hand-written paths (for
    /// side-by-side comparisons).
    public static let enabled = ProcessInfo.processInfo.environment["MPQ_CONV"] != "native"

    /// Depthwise convolutions with output planes up to this many pixels go to oneDNN (`MPQ_DW_PLANE`
    /// overrides). 16: mobilenet-digits' 4×4 planes, 9.9k → 13.5k samples/s; its 8×8 planes gained
    /// nothing measurable but added ~10 MiB of peak resident set (JIT kernels, blocked buffers).
    nonisolated(unsafe) public static var depthwisePlaneLimit = Int(ProcessInfo.processInfo.environment["MPQ_DW_PLANE"] ?? "") ?? 16

    /// Whether `Conv2D` sends this shape to oneDNN (see the type's documentation for the figures); with a blocked
    /// side, whether it can: any dense or depthwise convolution whose blocked sides have whole blocks of channels.
    public static func handles(_ s: Conv2DShape, layout: ConvolutionLayout = .plain) -> Bool {
        guard enabled, s.batch > 0, s.outputCount > 0, engine != nil else { return false }
        if !layout.isPlain {
            guard s.group == 1 || (s.isDepthwise && s.outChannels == s.inChannels) else { return false }
            return (!layout.blockedInput || ChannelBlocks.fits(channels: s.inChannels))
                && (!layout.blockedOutput || ChannelBlocks.fits(channels: s.outChannels))
        }
        let plane = s.window.height.output * s.window.width.output
        let spatialKernel = s.window.height.kernel * s.window.width.kernel > 1
        // A single input channel is a depthwise convolution with a channel multiplier: the direct kernel reads each
        // plane once for all output channels (mobilenet-digits' 1→8 stem at 16×16: 0.35 → 0.16 ms at batch 128).
        if s.group == 1 && s.inChannels > 1 { return spatialKernel }
        return s.isDepthwise && s.outChannels == s.inChannels && plane <= depthwisePlaneLimit
    }

    /// Whether a primitive for `s` with these options can be asked for (a cheap check: `cached` may still find that
    /// oneDNN has only its reference loops for it).
    public static func mayRun(_ s: Conv2DShape, activation: Activation, layout: ConvolutionLayout,
                              residual: Activation? = nil) -> Bool {
        guard handles(s, layout: layout) else { return false }
        return residual == nil || (layout.blockedOutput && (activation.isIdentity || fusable(activation) != nil))
    }

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var cache: [Key: OneDNNConvolution?] = [:]

    /// A primitive's identity: its shape, the activation fused into it and the caller's layouts.
    private struct Key: Hashable {
        var shape: Conv2DShape
        var activation: Activation?
        var layout: ConvolutionLayout
        var residualActivation: Activation?
    }

    /// The primitive for `shape` followed by `activation`, created on first use and kept for the process (a model has
    /// a few dozen distinct shapes); nil when oneDNN has no implementation for it.
    public static func cached(_ shape: Conv2DShape, activation: Activation = .none, layout: ConvolutionLayout = .plain,
                              residual: Activation? = nil) -> OneDNNConvolution? {
        let key = Key(shape: shape, activation: fusable(activation), layout: layout, residualActivation: residual)
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let known = cache[key] { return known }
        let made = OneDNNConvolution(shape, activation: activation, layout: layout, residual: residual)
        cache[key] = .some(made)
        return made
    }

    /// The activations oneDNN applies as a post-op with the stand-alone operator's results (ReLU: max(x, 0), its
    /// zero possibly negative; Clip: the clamp to [min, max]), nil for the rest.
    static func fusable(_ activation: Activation) -> Activation? {
        eltwise(activation) == nil ? nil : activation
    }

    /// oneDNN's element-wise algorithm and its alpha and beta for `activation`, when it has one.
    private static func eltwise(_ activation: Activation) -> (kind: dnnl_alg_kind_t, alpha: Float, beta: Float)? {
        switch activation {
        case .relu: (dnnl_eltwise_relu, 0, 0)
        case let .clip(lo, hi): (dnnl_eltwise_clip, lo, hi)
        default: nil
        }
    }

    /// Sets `attr`'s post-ops: `activation` (when fusable), then, with `residual`, the sum with the output's prior
    /// contents followed by that activation (when fusable).
    private static func setPostOps(_ activation: Activation?, residual: Activation?, on attr: dnnl_primitive_attr_t?) -> Bool {
        var ops: dnnl_post_ops_t?
        guard dnnl_post_ops_create(&ops) == dnnl_success else { return false }
        defer { dnnl_post_ops_destroy(ops) }
        func append(_ activation: Activation?) -> Bool {
            guard let (kind, alpha, beta) = activation.flatMap(eltwise) else { return true }
            return dnnl_post_ops_append_eltwise(ops, 1, kind, alpha, beta) == dnnl_success
        }
        guard append(activation) else { return false }
        if let residual {
            guard dnnl_post_ops_append_sum(ops, 1) == dnnl_success, append(residual) else { return false }
        }
        return dnnl_primitive_attr_set_post_ops(attr, ops) == dnnl_success
    }

    /// The CPU engine, created once; nil when oneDNN cannot create one.
    static let engine: dnnl_engine_t? = {
        var e: dnnl_engine_t?
        return dnnl_engine_create(&e, dnnl_cpu, 0) == dnnl_success ? e : nil
    }()

    /// Creates the primitive and reorders, or returns nil when oneDNN has no implementation; a ReLU or Clip
    /// `activation` becomes a post-op of the primitive. `layout` names the sides the caller keeps blocked. With
    /// `residual`, the primitive adds the output buffer's prior contents, then applies that activation: it needs a
    /// blocked output (written in place) and an `activation` that is none or fusable.
    public init?(_ s: Conv2DShape, activation: Activation = .none, layout: ConvolutionLayout = .plain,
                 residual: Activation? = nil) {
        guard let engine = Self.engine, Self.mayRun(s, activation: activation, layout: layout, residual: residual) else { return nil }
        shape = s
        self.layout = layout
        residualActivation = residual
        fusedActivation = Self.fusable(activation)
        // oneDNN partitions the work for the thread count current at creation: one.
        omp_set_num_threads(1)
        let d = UnsafeMutablePointer<dnnl_memory_desc_t>.allocate(capacity: 8)
        d.initialize(repeating: dnnl_memory_desc_t(), count: 8)
        descs = d
        var created = false
        defer { if !created { d.deallocate() } }
        // Local names for the descriptors (the computed properties need a fully initialised self).
        let plainSrc = d, plainDst = d + 1, plainWeights = d + 2, src = d + 3, dst = d + 4, weights = d + 5
        let bias = d + 6, scratchpad = d + 7
        let wh = s.window.height, ww = s.window.width
        let g = s.group
        let srcDims: [Int64] = [s.batch, s.inChannels, wh.input, ww.input].map(Int64.init)
        let dstDims: [Int64] = [s.batch, s.outChannels, wh.output, ww.output].map(Int64.init)
        let wDims: [Int64] = g == 1
            ? [s.outChannels, s.inChannels, wh.kernel, ww.kernel].map(Int64.init)
            : [g, s.outChannels / g, s.inChannels / g, wh.kernel, ww.kernel].map(Int64.init)
        let callerSrc = layout.blockedInput ? ChannelBlocks.tag : dnnl_nchw
        let callerDst = layout.blockedOutput ? ChannelBlocks.tag : dnnl_nchw
        guard dnnl_memory_desc_init_by_tag(plainSrc, 4, srcDims, dnnl_f32, callerSrc) == dnnl_success,
              dnnl_memory_desc_init_by_tag(plainDst, 4, dstDims, dnnl_f32, callerDst) == dnnl_success,
              dnnl_memory_desc_init_by_tag(plainWeights, Int32(wDims.count), wDims, dnnl_f32, g == 1 ? dnnl_oihw : dnnl_goihw) == dnnl_success,
              dnnl_memory_desc_init_by_tag(bias, 1, [Int64(s.outChannels)], dnnl_f32, dnnl_x) == dnnl_success
        else { return nil }
        var attr: dnnl_primitive_attr_t?
        guard dnnl_primitive_attr_create(&attr) == dnnl_success else { return nil }
        defer { dnnl_primitive_attr_destroy(attr) }
        // A scratchpad per call (not the library's shared one), so concurrent calls are safe.
        dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user)
        if fusedActivation != nil || residual != nil, !Self.setPostOps(fusedActivation, residual: residual, on: attr) { return nil }
        let problem = Problem(shape: s, srcDims: srcDims, dstDims: dstDims, weightDims: wDims, bias: bias, attr: attr, engine: engine)
        let preferred = Self.activationLayouts(s, layout).flatMap { problem.primitiveDesc(src: $0.src, dst: $0.dst) }
        guard let pd = preferred ?? (layout.isPlain ? problem.primitiveDesc(src: dnnl_format_tag_any, dst: dnnl_format_tag_any) : nil)
        else { return nil }
        defer { dnnl_primitive_desc_destroy(pd) }
        src.pointee = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0).pointee
        dst.pointee = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0).pointee
        weights.pointee = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0).pointee
        scratchpad.pointee = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0).pointee
        var prim: dnnl_primitive_t?
        guard dnnl_primitive_create(&prim, pd) == dnnl_success, let prim else { return nil }
        primitive = prim
        srcReorder = Self.reorder(from: plainSrc, to: src, engine)
        dstReorder = Self.reorder(from: dst, to: plainDst, engine)
        weightReorder = Self.reorder(from: plainWeights, to: weights, engine)
        scratchBytes = [srcReorder == nil ? 0 : dnnl_memory_desc_get_size(src),
                        dstReorder == nil ? 0 : dnnl_memory_desc_get_size(dst),
                        dnnl_memory_desc_get_size(scratchpad),
                        weightReorder == nil ? 0 : dnnl_memory_desc_get_size(weights)]
        created = true
    }

    /// Whether dense convolutions ask oneDNN for 16-channel blocks (nChw16c) rather than letting it choose
    /// (`MPQ_CONV_LAYOUT=any` lets it choose, for side-by-side comparisons).
    static let prefersBlockedActivations = ProcessInfo.processInfo.environment["MPQ_CONV_LAYOUT"] != "any"

    /// The activation layouts asked of a dense convolution: 16-channel blocks for both sides (an input of at
    /// most 4 channels, an image stem, stays NCHW), or nil to let oneDNN choose. Given free choice it takes NHWC
    /// for brgconv, whose reorders from and to NCHW cost more, and whose 3-channel stems are slow: one thread,
    /// reorders included, ResNet's 3×3 at 56² 3.02 → 2.84 ms (batch 2), its 7×7 stem 3.85 → 3.36, its 7² layers
    /// 2.78 → 2.45, EfficientNet's 3×3 stride-2 stem at batch 8 10.6 → 3.0 (docs/benchmarks.md).
    static func activationLayouts(_ s: Conv2DShape, _ layout: ConvolutionLayout = .plain) -> (src: dnnl_format_tag_t, dst: dnnl_format_tag_t)? {
        if !layout.isPlain {
            // The caller's blocked sides are the primitive's; a plain side is blocked inside when its channels allow.
            let src = layout.blockedInput || ChannelBlocks.fits(channels: s.inChannels) ? ChannelBlocks.tag
                : s.inChannels <= 4 ? dnnl_nchw : dnnl_format_tag_any
            let dst = layout.blockedOutput || ChannelBlocks.fits(channels: s.outChannels) ? ChannelBlocks.tag : dnnl_format_tag_any
            return (src, dst)
        }
        guard prefersBlockedActivations, s.group == 1, s.outChannels % 16 == 0 else { return nil }
        if s.inChannels % 16 == 0 { return (dnnl_nChw16c, dnnl_nChw16c) }
        return s.inChannels <= 4 ? (dnnl_nchw, dnnl_nChw16c) : nil
    }

    /// What a primitive descriptor is made from: the convolution's dimensions, bias, attributes and engine.
    private struct Problem {
        let shape: Conv2DShape
        let srcDims: [Int64], dstDims: [Int64], weightDims: [Int64]
        let bias: UnsafeMutablePointer<dnnl_memory_desc_t>
        let attr: dnnl_primitive_attr_t?
        let engine: dnnl_engine_t

        /// The descriptor with these activation layouts (weights as oneDNN chooses), or nil when oneDNN has no
        /// implementation for them or only its reference loops (slower than the hand-written paths).
        func primitiveDesc(src srcTag: dnnl_format_tag_t, dst dstTag: dnnl_format_tag_t) -> dnnl_primitive_desc_t? {
            var src = dnnl_memory_desc_t(), dst = dnnl_memory_desc_t(), weights = dnnl_memory_desc_t()
            guard dnnl_memory_desc_init_by_tag(&src, 4, srcDims, dnnl_f32, srcTag) == dnnl_success,
                  dnnl_memory_desc_init_by_tag(&dst, 4, dstDims, dnnl_f32, dstTag) == dnnl_success,
                  dnnl_memory_desc_init_by_tag(&weights, Int32(weightDims.count), weightDims, dnnl_f32, dnnl_format_tag_any) == dnnl_success
            else { return nil }
            let wh = shape.window.height, ww = shape.window.width
            var desc = dnnl_convolution_desc_t()
            let strides = [Int64(wh.stride), Int64(ww.stride)]
            let dilations = [Int64(wh.dilation - 1), Int64(ww.dilation - 1)]
            let padL = [Int64(wh.padBegin), Int64(ww.padBegin)], padR = [Int64(wh.padEnd), Int64(ww.padEnd)]
            guard dnnl_dilated_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
                                                             &src, &weights, bias, &dst,
                                                             strides, dilations, padL, padR) == dnnl_success else { return nil }
            var pd: dnnl_primitive_desc_t?
            guard dnnl_primitive_desc_create(&pd, &desc, attr, engine, nil) == dnnl_success, let pd else { return nil }
            var implementation: UnsafePointer<CChar>?
            if dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &implementation) == dnnl_success,
               let implementation, String(cString: implementation).hasPrefix("ref") {
                dnnl_primitive_desc_destroy(pd)
                return nil
            }
            return pd
        }
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        descs.deallocate()
        for r in [srcReorder, dstReorder, weightReorder] { if let r { dnnl_primitive_destroy(r) } }
    }

    /// A reorder primitive between two layouts, or nil when they are the same.
    private static func reorder(from a: UnsafeMutablePointer<dnnl_memory_desc_t>, to b: UnsafeMutablePointer<dnnl_memory_desc_t>,
                                _ engine: dnnl_engine_t) -> dnnl_primitive_t? {
        if dnnl_memory_desc_equal(a, b) != 0 { return nil }
        var rpd: dnnl_primitive_desc_t?
        guard dnnl_reorder_primitive_desc_create(&rpd, a, engine, b, engine, nil) == dnnl_success, let rpd else {
            fatalError("oneDNN: no reorder between the plain and the primitive's layout")
        }
        defer { dnnl_primitive_desc_destroy(rpd) }
        var r: dnnl_primitive_t?
        guard dnnl_primitive_create(&r, rpd) == dnnl_success else { fatalError("oneDNN: reorder primitive creation failed") }
        return r
    }

    /// Scratch buffers (blocked input, blocked output, scratchpad, weights) shared by all layers:
    /// fresh allocations of these sizes page-fault on every call; keeping one set per layer grew
    /// mobilenet-digits' peak resident set from 41 to 80 MiB.
    private final class Scratch {
        var buffers: [UnsafeMutableRawPointer] = []
        var sizes: [Int] = []
        /// Makes every buffer at least `bytes[i]` long.
        func reserve(_ bytes: [Int]) {
            if sizes.count != bytes.count {
                buffers.forEach { $0.deallocate() }
                buffers = bytes.map { UnsafeMutableRawPointer.allocate(byteCount: max($0, 64), alignment: 64) }
                sizes = bytes.map { max($0, 64) }
                return
            }
            for i in bytes.indices where bytes[i] > sizes[i] {
                buffers[i].deallocate()
                buffers[i] = UnsafeMutableRawPointer.allocate(byteCount: bytes[i], alignment: 64)
                sizes[i] = bytes[i]
            }
        }
        deinit { buffers.forEach { $0.deallocate() } }
    }

    private static let poolLock = NSLock()
    nonisolated(unsafe) private static var pool: [Scratch] = []

    /// A scratch set for one call; the weights buffer only `withWeights` (cached weights need none).
    private func takeScratch(withWeights: Bool) -> Scratch {
        Self.poolLock.lock()
        let scratch = Self.pool.popLast() ?? Scratch()
        Self.poolLock.unlock()
        var bytes = scratchBytes
        if !withWeights { bytes[3] = 0 }
        scratch.reserve(bytes)
        return scratch
    }

    private func returnScratch(_ scratch: Scratch) {
        Self.poolLock.lock()
        Self.pool.append(scratch)
        Self.poolLock.unlock()
    }


    /// `weights` (OIHW) reordered into the primitive's layout, or nil when the primitive reads them as they are.
    func prepare(_ weights: [Float]) -> PreparedWeights? {
        guard let r = weightReorder, let engine = Self.engine, weights.count == shape.weightCount else { return nil }
        let made = PreparedWeights(source: weights, layout: self.weights.pointee, byteCount: scratchBytes[3])
        weights.withUnsafeBufferPointer { w in
            omp_set_num_threads(1)
            run(r, engine, [(DNNL_ARG_FROM, plainWeights, UnsafeMutableRawPointer(mutating: w.baseAddress!)),
                            (DNNL_ARG_TO, made.layout, made.buffer)])
        }
        return made
    }

    /// Whether this primitive reads its weights in `prepared`'s layout.
    func readsWeights(like prepared: PreparedWeights) -> Bool {
        weightReorder != nil && dnnl_memory_desc_equal(weights, prepared.layout) != 0
    }

    /// `output = activation(conv(input, weights) + bias)`, NCHW / OIHW buffers as in `Conv2D.forward` (blocked
    /// where `layout` says), on the calling thread; `prepared`, when given, holds these weights already in the primitive's layout.
    public func forward(input: UnsafePointer<Float>, weights w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?,
                        output: UnsafeMutablePointer<Float>, activation: Activation) {
        forward(input: input, weights: w, bias: b, output: output, activation: activation, prepared: nil)
    }

    func forward(input: UnsafePointer<Float>, weights w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?,
                 output: UnsafeMutablePointer<Float>, activation: Activation, prepared: PreparedWeights?) {
        let prepared = prepared.flatMap { readsWeights(like: $0) ? $0 : nil }
        guard let engine = Self.engine else { return }
        // oneDNN's bias is optional too, but a primitive made with a bias needs one: zeros.
        let zeroBias = [Float](repeating: 0, count: b == nil ? shape.outChannels : 0)
        omp_set_num_threads(1)
        let scratch = takeScratch(withWeights: prepared == nil)
        defer { returnScratch(scratch) }
        let x = UnsafeMutableRawPointer(mutating: input), y = UnsafeMutableRawPointer(output)
        let (scratchSrc, scratchDst, scratchPad, scratchWeights) = (scratch.buffers[0], scratch.buffers[1], scratch.buffers[2], scratch.buffers[3])
        let wPlain = UnsafeMutableRawPointer(mutating: w)
        if let r = weightReorder, prepared == nil {
            run(r, engine, [(DNNL_ARG_FROM, plainWeights, wPlain), (DNNL_ARG_TO, weights, scratchWeights)])
        }
        if let r = srcReorder { run(r, engine, [(DNNL_ARG_FROM, plainSrc, x), (DNNL_ARG_TO, src, scratchSrc)]) }
        zeroBias.withUnsafeBufferPointer { zb in
            let biasData = UnsafeMutableRawPointer(mutating: b ?? zb.baseAddress!)
            run(primitive, engine, [
                (DNNL_ARG_SRC, src, srcReorder == nil ? x : scratchSrc),
                (DNNL_ARG_WEIGHTS, weights, weightReorder == nil ? wPlain : prepared?.buffer ?? scratchWeights),
                (DNNL_ARG_BIAS, bias, biasData),
                (DNNL_ARG_DST, dst, dstReorder == nil ? y : scratchDst),
                (DNNL_ARG_SCRATCHPAD, scratchpad, scratchPad),
            ])
        }
        if let r = dstReorder { run(r, engine, [(DNNL_ARG_FROM, dst, scratchDst), (DNNL_ARG_TO, plainDst, y)]) }
        // An activation the primitive did not apply, on the result (element-wise, so in either layout): the
        // stand-alone operator's arithmetic.
        if fusedActivation != activation && !activation.isIdentity { activation.apply(output, count: shape.outputCount) }
        if let after = residualActivation, Self.fusable(after) == nil, !after.isIdentity { after.apply(output, count: shape.outputCount) }
    }

    /// Executes `primitive` on a fresh stream with memories wrapping the given buffers.
    private func run(_ primitive: dnnl_primitive_t, _ engine: dnnl_engine_t,
                     _ args: [(Int32, UnsafeMutablePointer<dnnl_memory_desc_t>, UnsafeMutableRawPointer)]) {
        var stream: dnnl_stream_t?
        guard dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success else {
            fatalError("oneDNN: stream creation failed")
        }
        var execArgs: [dnnl_exec_arg_t] = []
        for (arg, md, data) in args {
            var mem: dnnl_memory_t?
            guard dnnl_memory_create(&mem, md, engine, data) == dnnl_success else { fatalError("oneDNN: memory creation failed") }
            execArgs.append(dnnl_exec_arg_t(arg: arg, memory: mem))
        }
        let status = dnnl_primitive_execute(primitive, stream, Int32(execArgs.count), execArgs)
        dnnl_stream_wait(stream)
        for a in execArgs { dnnl_memory_destroy(a.memory) }
        dnnl_stream_destroy(stream)
        precondition(status == dnnl_success, "oneDNN: primitive execution failed (\(status))")
    }
}

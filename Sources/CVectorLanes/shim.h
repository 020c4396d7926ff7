// Eight-lane max and min as single AVX instructions, for activations applied in registers before a store.
//
// Swift's per-lane selects are vectorised only when LLVM's SLP pass takes them, which it did in one kernel and not
// in the next (ReLU depthwise layers and Clip pointwise ones ran 3-12x slower lane by lane). The operand order gives
// the scalar paths' results: maxps returns its second operand when either is NaN.
#include <immintrin.h>

/// ReLU: v > 0 ? v : 0 (NaN gives 0).
static inline __attribute__((always_inline)) __m256 mpq_relu8(__m256 v) {
    return _mm256_max_ps(v, _mm256_setzero_ps());
}

/// Clamp to [lo, hi]: (v < lo ? lo : v), then (> hi ? hi : it); NaN passes through.
static inline __attribute__((always_inline)) __m256 mpq_clamp8(__m256 v, __m256 lo, __m256 hi) {
    return _mm256_min_ps(hi, _mm256_max_ps(lo, v));
}

/// Lane-wise max: a > b ? a : b (b when either is NaN).
static inline __attribute__((always_inline)) __m256 mpq_max8(__m256 a, __m256 b) {
    return _mm256_max_ps(a, b);
}

/// a < b ? yes : no, lane by lane (no for NaN).
static inline __attribute__((always_inline)) __m256 mpq_select_less8(__m256 a, __m256 b, __m256 yes, __m256 no) {
    return _mm256_blendv_ps(no, yes, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
}

/// x is NaN ? yes : no, lane by lane.
static inline __attribute__((always_inline)) __m256 mpq_select_nan8(__m256 x, __m256 yes, __m256 no) {
    return _mm256_blendv_ps(no, yes, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/// a * b + c with one rounding (FMA), for polynomial evaluation.
static inline __attribute__((always_inline)) __m256 mpq_fma8(__m256 a, __m256 b, __m256 c) {
    return _mm256_fmadd_ps(a, b, c);
}

// Sixteen-lane forms for the AVX-512 kernels (MPQGEMM, compiled for znver4; called only after a run-time check).

/// ReLU on sixteen lanes: v > 0 ? v : 0 (NaN gives 0).
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) __m512 mpq_relu16(__m512 v) {
    return _mm512_max_ps(v, _mm512_setzero_ps());
}

/// Clamp to [lo, hi] on sixteen lanes; NaN passes through.
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) __m512 mpq_clamp16(__m512 v, __m512 lo, __m512 hi) {
    return _mm512_min_ps(hi, _mm512_max_ps(lo, v));
}

/// a * b + c with one rounding, sixteen lanes.
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) __m512 mpq_fma16(__m512 a, __m512 b, __m512 c) {
    return _mm512_fmadd_ps(a, b, c);
}

/// Lane-wise max on sixteen lanes: a > b ? a : b (b when either is NaN), as mpq_max8.
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) __m512 mpq_max16(__m512 a, __m512 b) {
    return _mm512_max_ps(a, b);
}

/// a < b ? yes : no, sixteen lanes (no for NaN), as mpq_select_less8.
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) __m512 mpq_select_less16(__m512 a, __m512 b, __m512 yes, __m512 no) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), no, yes);
}

/// x is NaN ? yes : no, sixteen lanes, as mpq_select_nan8.
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) __m512 mpq_select_nan16(__m512 x, __m512 yes, __m512 no) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), no, yes);
}

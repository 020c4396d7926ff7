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

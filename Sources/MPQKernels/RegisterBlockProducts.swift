// Register-blocked products for AVX2 (eight-lane FMA): six rows of A broadcast against 16 (or 8) columns of B held in
// two (one) vectors, so each step issues 12 (6) FMAs for 2 (1) loads of B and 6 broadcasts from A.

/// `c[6×16] = a[6×k] · b[k×16]` (`a` rows `lda` apart, `b` packed 16 per k, `c` rows `ldc` apart): twelve
/// accumulators.
@inline(__always)
func product6x16(_ k: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                 _ ldc: Int) {
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda
    var bp = b
    for j in 0..<k {
        let b0 = load8(bp), b1 = load8(bp + 8)
        var x = SIMD8(repeating: a0[j]); c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
        x = SIMD8(repeating: a1[j]); c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
        x = SIMD8(repeating: a2[j]); c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
        x = SIMD8(repeating: a3[j]); c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
        x = SIMD8(repeating: a4[j]); c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
        x = SIMD8(repeating: a5[j]); c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
        bp += 16
    }
    store8(c00, c); store8(c01, c + 8); store8(c10, c + ldc); store8(c11, c + ldc + 8)
    store8(c20, c + 2 * ldc); store8(c21, c + 2 * ldc + 8); store8(c30, c + 3 * ldc); store8(c31, c + 3 * ldc + 8)
    store8(c40, c + 4 * ldc); store8(c41, c + 4 * ldc + 8); store8(c50, c + 5 * ldc); store8(c51, c + 5 * ldc + 8)
}

/// `c[6×8] = a[6×k] · b[k×8]` (`b` packed 8 per k, `c` rows 16 apart): Winograd's last block of output channels when
/// their count is not a multiple of 16.
@inline(__always)
func product6x8(_ k: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
    var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>(), c3 = SIMD8<Float>(), c4 = SIMD8<Float>(), c5 = SIMD8<Float>()
    var bp = b
    for j in 0..<k {
        let b0 = load8(bp)
        c0 = c0.addingProduct(SIMD8(repeating: a[j]), b0)
        c1 = c1.addingProduct(SIMD8(repeating: a[lda + j]), b0)
        c2 = c2.addingProduct(SIMD8(repeating: a[2 * lda + j]), b0)
        c3 = c3.addingProduct(SIMD8(repeating: a[3 * lda + j]), b0)
        c4 = c4.addingProduct(SIMD8(repeating: a[4 * lda + j]), b0)
        c5 = c5.addingProduct(SIMD8(repeating: a[5 * lda + j]), b0)
        bp += 8
    }
    store8(c0, c); store8(c1, c + 16); store8(c2, c + 32); store8(c3, c + 48); store8(c4, c + 64); store8(c5, c + 80)
}

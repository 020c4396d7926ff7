/// The AVX-512 register block of Winograd's products (`MPQKernels.WinogradConvolution`; called only after a
/// run-time AVX-512F check): twelve rows of A broadcast against 16 columns of B in one register, twelve accumulators.
///
/// Each step issues 12 FMAs for one load of B, the two FMA ports' full width; the eight-lane block (6 × 16, two
/// registers per row) reaches half of it on these machines. Each output is the same chain of multiply-adds in `k`
/// order as the eight-lane block's, so the two give the same bits.
public enum RegisterBlock12x16 {
    /// `c[12×16] = a[12×k] · b[k×16]` (`a` rows `lda` apart, `b` packed 16 per k, `c` rows `ldc` apart).
    @inline(never)
    public static func product(_ k: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>,
                               _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        typealias V = SIMD16<Float>
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
        var c6 = V(), c7 = V(), c8 = V(), c9 = V(), c10 = V(), c11 = V()
        // Rows 0–5 and 6–11 from two row pointers stepped along k (fewer live addresses than one per row).
        var pa = a, pb = a + 6 * lda
        var bp = UnsafeRawPointer(b)
        for _ in 0..<k {
            let bj = bp.loadUnaligned(as: V.self)
            c0 = c0.addingProduct(V(repeating: pa[0]), bj)
            c1 = c1.addingProduct(V(repeating: pa[lda]), bj)
            c2 = c2.addingProduct(V(repeating: pa[2 * lda]), bj)
            c3 = c3.addingProduct(V(repeating: pa[3 * lda]), bj)
            c4 = c4.addingProduct(V(repeating: pa[4 * lda]), bj)
            c5 = c5.addingProduct(V(repeating: pa[5 * lda]), bj)
            c6 = c6.addingProduct(V(repeating: pb[0]), bj)
            c7 = c7.addingProduct(V(repeating: pb[lda]), bj)
            c8 = c8.addingProduct(V(repeating: pb[2 * lda]), bj)
            c9 = c9.addingProduct(V(repeating: pb[3 * lda]), bj)
            c10 = c10.addingProduct(V(repeating: pb[4 * lda]), bj)
            c11 = c11.addingProduct(V(repeating: pb[5 * lda]), bj)
            pa += 1
            pb += 1
            bp += 64
        }
        let out = UnsafeMutableRawPointer(c), row = ldc &* 4
        for (i, v) in [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11].enumerated() {
            out.storeBytes(of: v, toByteOffset: i &* row, as: V.self)
        }
    }
}

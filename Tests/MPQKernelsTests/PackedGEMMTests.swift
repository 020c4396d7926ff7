import Testing
@testable import MPQKernels
import MPQGEMM

/// MPQGEMM's AVX-512 kernel against OpenBLAS on random sizes, including odd edges and transposes.
@Test func packedGEMMMatchesOpenBLAS() throws {
    guard GemmBackend.cpuHasAVX512F else { return }
    try #require(OpenBLAS.available, "OpenBLAS (libopenblas0) is needed as the reference")
    var state: UInt64 = 7
    func rand(_ n: Int) -> [Float] {
        (0..<n).map { _ in state = state &* 6364136223846793005 &+ 1442695040888963407; return Float(state >> 40) / Float(1 << 23) - 1 }
    }
    let sizes = [(1, 1, 1), (12, 32, 5), (13, 33, 7), (11, 31, 1), (37, 70, 385), (100, 17, 50), (5, 300, 9),
                 (130, 4100, 3), (64, 49, 800), (25, 129, 130)]
    for (m, n, k) in sizes {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            for accumulate in [false, true] {
                let lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 5
                let a = rand((ta ? k : m) * lda), b = rand((tb ? n : k) * ldb)
                let c0 = rand(m * ldc)
                var mine = c0, ref = c0
                PackedGEMM.sgemm(m: m, n: n, k: k, a: a, lda: lda, transA: ta, b: b, ldb: ldb, transB: tb,
                                 c: &mine, ldc: ldc, accumulate: accumulate)
                OpenBLAS.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                               beta: accumulate ? 1 : 0, c: &ref, ldc: ldc)
                var worst: Float = 0
                for i in 0..<m { for j in 0..<n { worst = max(worst, abs(mine[i * ldc + j] - ref[i * ldc + j])) } }
                #expect(worst <= 1e-4 * Float(k).squareRoot() + 1e-5, "m \(m) n \(n) k \(k) ta \(ta) tb \(tb) acc \(accumulate): \(worst)")
                // Padding columns beyond n are untouched.
                for i in 0..<m { for j in n..<ldc { #expect(mine[i * ldc + j] == c0[i * ldc + j]) } }
            }
        }
    }
}

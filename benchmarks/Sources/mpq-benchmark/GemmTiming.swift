import Foundation
import MPQKernels

/// `mpq-benchmark --gemm M,N,K[,M,N,K...]`: GFLOP/s of `Gemm.sgemm` (row-major, no transposes) with
/// each backend on the given shapes, best of several repetitions, at `threads` threads.
func timeGemm(_ shapes: [Int], threads: Int) {
    var rng = SystemRandomNumberGenerator()
    for s in stride(from: 0, to: shapes.count - 2, by: 3) {
        let m = shapes[s], n = shapes[s + 1], k = shapes[s + 2]
        let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
        let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
        var c = [Float](repeating: 0, count: m * n)
        var line = String(format: "%5d x %5d x %5d:", m, n, k)
        for backend in [GemmBackend.oneDNN, .packedAVX512, .openBLAS] {
            Gemm.backend = backend
            var best = Double.infinity
            let reps = max(3, min(200, Int(2e9 / Double(2 * m * n * k))))
            for _ in 0..<reps {
                let t0 = DispatchTime.now().uptimeNanoseconds
                Gemm.sgemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n, threads: threads)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            line += String(format: "  %@ %6.1f GFLOP/s", backend == .openBLAS ? "OpenBLAS" : (backend == .oneDNN ? "oneDNN" : "packed"), 2 * Double(m * n * k) / best / 1e9)
        }
        print(line)
    }
    Gemm.backend = GemmBackend.preferred
}

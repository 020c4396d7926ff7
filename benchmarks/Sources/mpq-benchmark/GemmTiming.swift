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

/// `mpq-benchmark --attention`: one batch of attention's per-head products as MiniLM runs them (8 sentences × 12
/// heads, 128 tokens, width 32, heads read in place from `[batch, tokens, heads, width]`): `Q·Kᵀ` and `P·V` through
/// `Gemm.sgemmBatched`, best of 20 (the products attention runs at; `dnnl_sgemm` on AVX2 machines).
func timeAttention(threads: Int) {
    var rng = SystemRandomNumberGenerator()
    let (batch, heads, tokens, width) = (8, 12, 128, 32)
    let row = heads * width
    let q = (0..<(batch * tokens * row)).map { _ in Float.random(in: -1...1, using: &rng) }
    let k = (0..<(batch * tokens * row)).map { _ in Float.random(in: -1...1, using: &rng) }
    let p = (0..<(batch * heads * tokens * tokens)).map { _ in Float.random(in: 0...1, using: &rng) }
    var scores = [Float](repeating: 0, count: batch * heads * tokens * tokens)
    var context = [Float](repeating: 0, count: batch * heads * tokens * width)
    var qOffsets: [Int] = [], sOffsets: [Int] = [], cOffsets: [Int] = []
    for b in 0..<batch {
        for h in 0..<heads {
            qOffsets.append(b * tokens * row + h * width)
            sOffsets.append((b * heads + h) * tokens * tokens)
            cOffsets.append((b * heads + h) * tokens * width)
        }
    }
    func best(_ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<20 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        return best
    }
    let scoresTime = best {
        Gemm.sgemmBatched(transB: true, m: tokens, n: tokens, k: width, a: q, lda: row, aOffsets: qOffsets, b: k, ldb: row,
                          bOffsets: qOffsets, c: &scores, ldc: tokens, cOffsets: sOffsets, threads: threads)
    }
    let contextTime = best {
        Gemm.sgemmBatched(m: tokens, n: width, k: tokens, a: p, lda: tokens, aOffsets: sOffsets, b: k, ldb: row,
                          bOffsets: qOffsets, c: &context, ldc: width, cOffsets: cOffsets, threads: threads)
    }
    print(String(format: "attention products, one batch: Q·Kᵀ %.3f ms (%.1f GFLOP/s), P·V %.3f ms (%.1f GFLOP/s)", scoresTime,
                 Double(2 * batch * heads * tokens * tokens * width) / scoresTime / 1e6, contextTime,
                 Double(2 * batch * heads * tokens * tokens * width) / contextTime / 1e6))
}

import Testing
@testable import MPQKernels

/// Every `Gemm` backend against a double-precision reference, and the row/column blocking of
/// large products: results bit-identical for 1 and 2 threads.
private func referenceProduct(m: Int, n: Int, k: Int, a: [Float], b: [Float], transA: Bool, transB: Bool) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let x = transA ? a[p * m + i] : a[i * k + p]
                let y = transB ? b[j * k + p] : b[p * n + j]
                s += Double(x) * Double(y)
            }
            c[i * n + j] = Float(s)
        }
    }
    return c
}

private func product(_ backend: GemmBackend, m: Int, n: Int, k: Int, a: [Float], b: [Float],
                     transA: Bool, transB: Bool, threads: Int) -> [Float] {
    var c = [Float](repeating: .nan, count: m * n)
    Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: transA ? m : k,
               b: b, ldb: transB ? k : n, beta: 0, c: &c, ldc: n, threads: threads, backend: backend)
    return c
}

@Test(arguments: [GemmBackend.oneDNN, .packedAVX512, .openBLAS])
func gemmBackendsMatchReference(_ backend: GemmBackend) {
    // Odd sizes, both transposes, and shapes large enough to be cut into blocks.
    let shapes = [(1, 1, 1), (5, 7, 3), (13, 33, 17), (300, 70, 200), (70, 650, 129), (1024, 96, 64)]
    var rng = SeededRandom(11)
    for (m, n, k) in shapes {
        let a = rng.floats(m * k), b = rng.floats(k * n)
        for (transA, transB) in [(false, false), (true, false), (false, true)] {
            let expected = referenceProduct(m: m, n: n, k: k, a: a, b: b, transA: transA, transB: transB)
            let one = product(backend, m: m, n: n, k: k, a: a, b: b, transA: transA, transB: transB, threads: 1)
            let two = product(backend, m: m, n: n, k: k, a: a, b: b, transA: transA, transB: transB, threads: 2)
            #expect(maxAbsDiff(one, expected) < 1e-4 * Float(k).squareRoot(), "\(backend) \(m)×\(n)×\(k) \(transA) \(transB)")
            if backend != .openBLAS {
                #expect(one == two, "\(backend) \(m)×\(n)×\(k): 1 and 2 threads differ")
            }
        }
    }
}

@Test func gemmBlocksDependOnShapeOnly() {
    #expect(Gemm.blocks(m: 8, n: 8, k: 8) == (1, 1))
    let (rows, columns) = Gemm.blocks(m: 1024, n: 384, k: 384)
    #expect(rows > 1 && columns == 1)
    let (r2, c2) = Gemm.blocks(m: 64, n: 4096, k: 512)
    #expect(r2 == 1 && c2 > 1)
}

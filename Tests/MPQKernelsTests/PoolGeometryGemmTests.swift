import Testing
@testable import MPQKernels

@Test func windowAxisFloorCeilAndSame() {
    // floor vs ceil
    #expect(WindowAxis.resolve(input: 5, kernel: 2, stride: 2, dilation: 1, padBegin: 0, padEnd: 0, autoPad: .notSet)?.output == 2)
    #expect(WindowAxis.resolve(input: 5, kernel: 2, stride: 2, dilation: 1, padBegin: 0, padEnd: 0, autoPad: .notSet, ceilMode: true)?.output == 3)
    // ceil mode drops a last window that would start in the end padding
    #expect(WindowAxis.resolve(input: 6, kernel: 1, stride: 2, dilation: 1, padBegin: 0, padEnd: 1, autoPad: .notSet, ceilMode: true)?.output == 3)
    #expect(WindowAxis.resolve(input: 6, kernel: 1, stride: 2, dilation: 1, padBegin: 0, padEnd: 1, autoPad: .notSet)?.output == 4)
    // 112 → 56 (ResNet stem max pool, 3×3 s2 p1), both modes
    #expect(WindowAxis.resolve(input: 112, kernel: 3, stride: 2, dilation: 1, padBegin: 1, padEnd: 1, autoPad: .notSet)?.output == 56)
    #expect(WindowAxis.resolve(input: 112, kernel: 3, stride: 2, dilation: 1, padBegin: 1, padEnd: 1, autoPad: .notSet, ceilMode: true)?.output == 57)
    // dilation
    #expect(WindowAxis.resolve(input: 9, kernel: 3, stride: 1, dilation: 2, padBegin: 0, padEnd: 0, autoPad: .notSet)?.output == 5)
    // SAME: the odd padding element goes to the end (UPPER) or the beginning (LOWER)
    let up = WindowAxis.resolve(input: 6, kernel: 3, stride: 2, dilation: 1, padBegin: 9, padEnd: 9, autoPad: .sameUpper)!
    #expect(up.output == 3 && up.padBegin == 0 && up.padEnd == 1)
    let low = WindowAxis.resolve(input: 6, kernel: 3, stride: 2, dilation: 1, padBegin: 0, padEnd: 0, autoPad: .sameLower)!
    #expect(low.output == 3 && low.padBegin == 1 && low.padEnd == 0)
    let same5 = WindowAxis.resolve(input: 5, kernel: 3, stride: 1, dilation: 1, padBegin: 0, padEnd: 0, autoPad: .sameUpper)!
    #expect(same5.output == 5 && same5.padBegin == 1 && same5.padEnd == 1)
    // VALID ignores pads
    let valid = WindowAxis.resolve(input: 7, kernel: 3, stride: 2, dilation: 1, padBegin: 4, padEnd: 4, autoPad: .valid)!
    #expect(valid.output == 3 && valid.padBegin == 0)
    // does not fit / invalid
    #expect(WindowAxis.resolve(input: 2, kernel: 3, stride: 1, dilation: 1, padBegin: 0, padEnd: 0, autoPad: .notSet) == nil)
    #expect(WindowAxis.resolve(input: 5, kernel: 3, stride: 0, dilation: 1, padBegin: 0, padEnd: 0, autoPad: .notSet) == nil)
}

func runPool(_ win: Window2D, planes: Int, _ x: [Float], max isMax: Bool, countIncludePad: Bool = false, threads: Int = 1) -> [Float] {
    var out = [Float](repeating: .nan, count: planes * win.height.output * win.width.output)
    x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { op in
            if isMax {
                Pool2D.max(win, planes: planes, input: xp.baseAddress!, output: op.baseAddress!, threads: threads)
            } else {
                Pool2D.average(win, planes: planes, countIncludePad: countIncludePad, input: xp.baseAddress!,
                               output: op.baseAddress!, threads: threads)
            }
        }
    }
    return out
}

@Test func poolHandComputed() {
    let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    let w = Window2D(inputHeight: 3, inputWidth: 3, kernel: (2, 2))!
    #expect(runPool(w, planes: 1, x, max: true) == [5, 6, 8, 9])
    #expect(runPool(w, planes: 1, x, max: false) == [3, 4, 6, 7])
    // ceil mode, 2×2 stride 2 on 3×3: the last row/column windows are partial.
    let c = Window2D(inputHeight: 3, inputWidth: 3, kernel: (2, 2), stride: (2, 2), ceilMode: true)!
    #expect(runPool(c, planes: 1, x, max: true) == [5, 6, 8, 9])
    #expect(runPool(c, planes: 1, x, max: false) == [3, 4.5, 7.5, 9])
    // padding 1, 2×2 stride 2: count_include_pad divides by 4, otherwise by the valid count.
    let p = Window2D(inputHeight: 3, inputWidth: 3, kernel: (2, 2), stride: (2, 2), pads: (1, 1, 1, 1))!
    #expect(runPool(p, planes: 1, x, max: false, countIncludePad: false) == [1, 2.5, 5.5, 7])
    #expect(runPool(p, planes: 1, x, max: false, countIncludePad: true) == [0.25, 1.25, 2.75, 7])
    #expect(runPool(p, planes: 1, x, max: true) == [1, 3, 7, 9])
}

struct PoolCase: CustomStringConvertible, Sendable {
    var planes = 3, h = 7, w = 9, k = (3, 3), s = (2, 2), d = (1, 1), p = (top: 1, left: 1, bottom: 1, right: 1), ceil = false
    var description: String { "\(planes)×\(h)×\(w) k\(k) s\(s) d\(d) p\(p) ceil \(ceil)" }
}

@Test("pooling matches a naive reference", arguments: [
    PoolCase(),
    PoolCase(ceil: true),
    PoolCase(h: 8, w: 8, k: (2, 2), s: (2, 2), p: (0, 0, 0, 0), ceil: true),
    PoolCase(h: 7, w: 9, k: (3, 2), s: (2, 3), p: (0, 1, 2, 0), ceil: true),
    PoolCase(h: 9, w: 10, k: (2, 3), s: (1, 1), d: (2, 2), p: (1, 0, 0, 2)),
    PoolCase(planes: 64, h: 20, w: 21, k: (3, 3), s: (2, 2), p: (1, 1, 1, 1), ceil: true), // parallel path
    PoolCase(h: 5, w: 5, k: (5, 5), s: (1, 1), p: (0, 0, 0, 0)),
    // Rows wide enough for the eight-output max path: stride 2 (ResNet's stem row, an odd width), stride 1 with
    // dilation and uneven pads, ceil mode.
    PoolCase(planes: 2, h: 6, w: 112, k: (3, 3), s: (2, 2), p: (1, 1, 1, 1)),
    PoolCase(planes: 2, h: 9, w: 37, k: (3, 3), s: (2, 2), p: (1, 1, 1, 1)),
    PoolCase(planes: 2, h: 6, w: 29, k: (3, 3), s: (1, 1), d: (1, 2), p: (1, 2, 1, 3)),
    PoolCase(planes: 1, h: 7, w: 40, k: (2, 2), s: (2, 2), p: (0, 0, 0, 0), ceil: true),
])
func poolMatchesReference(_ c: PoolCase) {
    let win = Window2D(inputHeight: c.h, inputWidth: c.w, kernel: c.k, stride: c.s, dilation: c.d, pads: c.p, ceilMode: c.ceil)!
    var rng = SeededRandom(UInt64(c.h * 100 + c.w))
    let x = rng.floats(c.planes * c.h * c.w)
    for threads in [1, 2] {
        #expect(maxAbsDiff(runPool(win, planes: c.planes, x, max: true, threads: threads),
                           referencePool(win, planes: c.planes, input: x, max: true)) == 0)
        for cip in [false, true] {
            #expect(maxAbsDiff(runPool(win, planes: c.planes, x, max: false, countIncludePad: cip, threads: threads),
                               referencePool(win, planes: c.planes, input: x, max: false, countIncludePad: cip)) < 1e-5)
        }
    }
}

@Test func globalAverage() {
    var rng = SeededRandom(3)
    for size in [1, 7, 8, 49, 100] {
        let x = rng.floats(3 * size)
        var out = [Float](repeating: 0, count: 3)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { Pool2D.globalAverage(planes: 3, size: size, input: xp.baseAddress!, output: $0.baseAddress!) }
        }
        for p in 0..<3 {
            let mean = x[(p * size)..<((p + 1) * size)].reduce(0, +) / Float(size)
            #expect(abs(out[p] - mean) < 1e-5)
        }
    }
}

@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func gemmMatchesReference(_ t: (Bool, Bool)) {
    let (transA, transB) = t
    let m = 5, n = 7, k = 6
    // Leading dimensions larger than the matrices: sub-matrix views.
    let lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 1, ldc = n + 3
    var rng = SeededRandom(11)
    let a = rng.floats((transA ? k : m) * lda), b = rng.floats((transB ? n : k) * ldb), c0 = rng.floats(m * ldc)
    for (alpha, beta) in [(Float(1), Float(0)), (0.5, 2), (-1, 1)] {
        var c = c0
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda,
                               b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: ldc, threads: 1)
                }
            }
        }
        let expected = referenceGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                                     b: b, ldb: ldb, beta: beta, c: c0, ldc: ldc)
        for i in 0..<m { for j in 0..<n { #expect(abs(c[i * ldc + j] - expected[i * ldc + j]) < 1e-4) } }
        // Columns past N are untouched.
        for i in 0..<m { for j in n..<ldc { #expect(c[i * ldc + j] == c0[i * ldc + j]) } }
    }
}

@Test func gemmBatchedWithSharedOperand() {
    let m = 3, n = 4, k = 5, batch = 6
    var rng = SeededRandom(5)
    let a = rng.floats(batch * m * k), b = rng.floats(k * n)  // B shared by every batch
    for threads in [1, 2] {
        var c = [Float](repeating: .nan, count: batch * m * n)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    Gemm.sgemmBatched(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, aOffsets: (0..<batch).map { $0 * m * k },
                                      b: bp.baseAddress!, ldb: n, bOffsets: [Int](repeating: 0, count: batch),
                                      c: cp.baseAddress!, ldc: n, cOffsets: (0..<batch).map { $0 * m * n }, threads: threads)
                }
            }
        }
        for i in 0..<batch {
            let e = referenceGemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: Array(a[(i * m * k)..<((i + 1) * m * k)]),
                                  lda: k, b: b, ldb: n, beta: 0, c: [Float](repeating: 0, count: m * n), ldc: n)
            #expect(maxAbsDiff(Array(c[(i * m * n)..<((i + 1) * m * n)]), e) < 1e-4)
        }
    }
}

/// The clamping a setting applies (not the process-wide budget itself: tests running beside this one change it,
/// e.g. `ParallelWork` while its workers run, so reading it back after setting it was a race).
@Test func kernelThreadsSetting() {
    #expect(KernelThreads.clamped(0) == 1)
    #expect(KernelThreads.clamped(-3) == 1)
    #expect(KernelThreads.clamped(2) == min(2, KernelThreads.processors))
    #expect(KernelThreads.clamped(48) == KernelThreads.processors)
    #expect(KernelThreads.clamped(KernelThreads.processors) == KernelThreads.processors)
}

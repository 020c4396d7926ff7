import Foundation
import MPQGEMM
@testable import MPQKernels
import Testing

/// `VectorMath` against libm on ranges that matter (GELU arguments, softmax exponents), odd
/// lengths (vector tails) and the special values.
private func grid(_ lo: Float, _ hi: Float, _ n: Int) -> [Float] {
    (0..<n).map { lo + (hi - lo) * Float($0) / Float(n - 1) }
}

@Test func expMatchesLibmWithinTwoUlps() {
    let x = grid(-87, 88, 20_011)
    var y = [Float](repeating: 0, count: x.count)
    VectorMath.exp(x, &y, count: x.count)
    for i in x.indices {
        let ref = expf(x[i])
        #expect(Swift.abs(y[i] - ref) <= 2 * ref.ulp, "exp(\(x[i]))")
    }
}

@Test func expSpecialValues() {
    let x: [Float] = [-.infinity, -200, -88, 0, 89, 200, .infinity, .nan, 1, -1, 0.5]
    var y = [Float](repeating: 0, count: x.count)
    VectorMath.exp(x, &y, count: x.count)
    #expect(Array(y[0..<3]) == [0, 0, 0])
    #expect(y[3] == 1)
    #expect(Array(y[4..<7]) == [.infinity, .infinity, .infinity])
    #expect(y[7].isNaN)
    #expect(Swift.abs(Double(y[8]) - Double(expf(1))) <= Double(2 * expf(1).ulp))
}

@Test func erfAbsoluteErrorBelow3e7() {
    let x = grid(-6, 6, 30_001) + [0, -0.0, 1e-6, -1e-6, 0.49999, 0.5, 0.50001, 4, 4.0001]
    var y = [Float](repeating: 0, count: x.count)
    VectorMath.erf(x, &y, count: x.count)
    for i in x.indices {
        #expect(Swift.abs(Double(y[i]) - Double(erff(x[i]))) <= 3e-7, "erf(\(x[i]))")
    }
    // Relative accuracy near 0 (GELU of tiny activations).
    #expect(Swift.abs(Double(y[x.count - 7] / 1e-6) - Double(erff(1e-6) / 1e-6)) <= 1e-6)
}

@Test func erfSpecialValues() {
    let x: [Float] = [.infinity, -.infinity, .nan]
    var y = [Float](repeating: 0, count: 3)
    VectorMath.erf(x, &y, count: 3)
    #expect(y[0] == 1); #expect(y[1] == -1); #expect(y[2].isNaN)
}

@Test func softmaxRowMatchesScalarOnOddLengths() {
    var random = SeededRandom(7)
    for n in [1, 5, 16, 17, 33, 128, 131] {
        let x = random.floats(n).map { $0 * 20 }
        for log in [false, true] {
            var y = [Float](repeating: 0, count: n)
            VectorMath.softmaxRow(x, &y, count: n, log: log)
            let m = x.max()!
            let e = x.map { Double(expf($0 - m)) }
            let s = e.reduce(0, +)
            for i in 0..<n {
                let ref = log ? Double(x[i] - m) - Foundation.log(s) : e[i] / s
                #expect(Swift.abs(Double(y[i]) - ref) <= 1e-6 * max(1, Swift.abs(ref)), "n \(n) log \(log) i \(i)")
            }
        }
    }
}

@Test func softmaxRowInfinitiesAndNaN() {
    var y = [Float](repeating: 0, count: 3)
    VectorMath.softmaxRow([-.infinity, 0, -.infinity], &y, count: 3, log: false)
    #expect(y == [0, 1, 0])
    VectorMath.softmaxRow([1, .nan, 2], &y, count: 3, log: false)
    #expect(y.allSatisfy { $0.isNaN })
}

@Test func elementwiseBinaryAllStepCombinations() {
    var random = SeededRandom(3)
    let n = 37
    let a = random.floats(n), b = random.floats(n).map { $0 + 2 }
    let ops: [(ElementwiseBinary, (Float, Float) -> Float)] = [(.add, +), (.sub, -), (.mul, *), (.div, /)]
    for (op, f) in ops {
        for (aStep, bStep) in [(1, 1), (1, 0), (0, 1), (0, 0)] {
            var out = [Float](repeating: .nan, count: n)
            op.run(a, aStep: aStep, b, bStep: bStep, &out, count: n)
            for i in 0..<n { #expect(out[i] == f(a[i * aStep], b[i * bStep]), "\(op) \(aStep),\(bStep)") }
        }
    }
}

/// The erf GELU's sixteen-lane AVX-512 form gives exactly the eight-lane form's bits for every grouping and argument
/// form, on a dense grid through the Taylor/Abramowitz–Stegun switch (|x| = 0.5 after the argument's scaling), the
/// saturation at 4, and the special values.
@Test(arguments: ErfGelu.Grouping.allCases, [true, false])
func erfGeluSixteenLanesEqualEightLanes(grouping: ErfGelu.Grouping, divides: Bool) throws {
    guard GemmBackend.cpuHasAVX512F else { return }
    var x = grid(-9, 9, 4_001)
    x += [0, -0.0, .infinity, -.infinity, .nan, Float.leastNonzeroMagnitude, -Float.leastNormalMagnitude, 3e38, -3e38,
          0.70710677, -0.70710677, 5.656854, -5.656854]
    let gelu = ErfGelu(dividesArgument: divides, argumentConstant: divides ? 1.4142135 : 0.70710677, offset: 1, half: 0.5,
                       grouping: grouping)
    var wide = [Float](repeating: 0, count: x.count)
    let done = x.withUnsafeBufferPointer { s in
        wide.withUnsafeMutableBufferPointer { d in
            ErfGelu16.apply(s.baseAddress!, d.baseAddress!, count: x.count, divides: divides, argument: gelu.argumentConstant,
                            offset: 1, half: 0.5, grouping: grouping.rawValue)
        }
    }
    #expect(done == x.count / 16 * 16)
    // The eight-lane reference: the same kernel on 8-float chunks (the lane width never meets a tail of 16).
    let narrow = x.map { v -> Float in gelu(VectorMath.V(repeating: v))[0] }
    for i in 0..<done {
        #expect(wide[i].bitPattern == narrow[i].bitPattern || (wide[i].isNaN && narrow[i].isNaN), "x = \(x[i])")
    }
}

/// The sixteen-lane softmax normalisation gives the eight-lane one's bits (so plans do not depend on the CPU), on rows
/// shorter than, equal to and longer than a vector (tails of 1–15), with masked (−inf and −1e4) entries, and is
/// within a few ulps of a double-precision softmax.
@Test(arguments: [1, 7, 8, 9, 16, 17, 24, 31, 128, 129])
func softmaxSixteenLanesEqualEightLanes(n: Int) throws {
    guard GemmBackend.cpuHasAVX512F else { return }
    var x = grid(-30, 12, max(n, 2)).prefix(n).map { $0 }
    if n > 3 { x[1] = -.infinity; x[2] = -10_000 }
    let m = x.max()!
    var wide = [Float](repeating: .nan, count: n), narrow = [Float](repeating: .nan, count: n)
    Softmax16.normalizedRow(x, &wide, count: n, maximum: m)
    x.withUnsafeBufferPointer { s in
        narrow.withUnsafeMutableBufferPointer { d in
            VectorMath.normalizedRow8(s.baseAddress!, d.baseAddress!, count: n, maximum: m, log: false)
        }
    }
    #expect(wide.map(\.bitPattern) == narrow.map(\.bitPattern))
    let e = x.map { Foundation.exp(Double($0 - m)) }, total = e.reduce(0, +)
    for i in 0..<n {
        #expect(Swift.abs(Double(wide[i]) - e[i] / total) <= 4e-7 * (e[i] / total) + 1e-30, "n = \(n), x = \(x[i])")
    }
}

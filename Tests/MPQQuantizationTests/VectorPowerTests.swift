import Foundation
import Testing
@testable import MPQQuantization

@Suite struct VectorPowerTests {
    /// Against libm over magnitudes from 1e-4 to 1e4 (errors in quantization steps) and LAPQ's p values:
    /// float32's rounding of p · ln x bounds the relative error by about 1e-7 · |p · ln x|.
    @Test func matchesPowWithinFloatPrecisionOfTheExponent() {
        var rng = SeededGenerator(seed: 7)
        for p in stride(from: 1.0, through: 4.0, by: 2.0 / 9.0) {
            for _ in 0..<200 {
                var x = SIMD8<Float>()
                for k in 0..<8 { x[k] = Float(Foundation.pow(10, Double(rng.uniform()) * 8 - 4)) * (k % 2 == 0 ? 1 : -1) }
                let fast = VectorPower.power(x, Float(p))
                for k in 0..<8 {
                    let exact = Foundation.pow(Double(abs(x[k])), p)
                                        let bound = 1.5e-7 * (2 + abs(p * Foundation.log(Double(abs(x[k])))))
                    #expect(abs(Double(fast[k]) - exact) <= bound * exact, "|\(x[k])|^\(p): \(fast[k]) vs \(exact)")
                }
            }
        }
    }

    /// Both clamps bound every lane to [lo, hi], leave lanes inside alone (the bounds themselves included) and pass a
    /// NaN through, as the fake-quantization kernel's compare-and-select did.
    @Test func clampBoundsLanesAndPassesNaN() {
        let values: [Float] = [-7, -2, -1.5, -0.0, 0.25, 3, 3.5, 9, .nan, -.infinity, .infinity, 1e30, -1e-30, 2.9999, -2, 0]
        let (lo, hi): (Float, Float) = (-2, 3)
        let expected = values.map { $0.isNaN ? $0 : Swift.min(Swift.max($0, lo), hi) }
        let wide = VectorPower.clamp(SIMD16<Float>(values), SIMD16(repeating: lo), SIMD16(repeating: hi))
        let narrow = VectorPower.clamp(SIMD8<Float>(values[0..<8]), SIMD8(repeating: lo), SIMD8(repeating: hi))
        for k in 0..<16 {
            #expect(wide[k] == expected[k] || (wide[k].isNaN && expected[k].isNaN), "lane \(k): \(wide[k])")
            if k < 8 { #expect(narrow[k] == expected[k], "lane \(k): \(narrow[k])") }
        }
        #expect(wide[8].isNaN)
    }

    @Test func zeroAndTinyGiveZero() {
        let x = SIMD8<Float>(repeating: 0).replacing(with: 1e-38, where: SIMD8<Int32>(0, 1, 0, 1, 0, 1, 0, 1) .== 1)
        #expect(VectorPower.power(x, 2.5) == SIMD8<Float>(repeating: 0))
    }

    /// The SIMD mean error equals a Double-precision scalar reference for integer and fractional p.
    @Test func meanErrorMatchesScalarReference() throws {
        let values = LpClippingTests.samples("laplace", count: 10_007, seed: 3)
        for p in [2.0, 2.2222, 3.0, 3.5555, 4.0] {
            for bits in [4, 8] {
                let params = try QuantizationGrid.signedSymmetric(bits: bits).parameters(alpha: 2.5)
                var reference = 0.0
                for v in values {
                    let c = min(max(v * params.inverseScales[0] + params.zeroPoints[0], Float(params.qmin)), Float(params.qmax)).rounded(.toNearestOrEven)
                    reference += Foundation.pow(Double(abs((c - params.zeroPoints[0]) * params.scales[0] - v)), p)
                }
                reference /= Double(values.count)
                let fast = LpClipping.lpError(values, parameters: params, p: p)
                #expect(abs(fast - reference) <= 1e-5 * reference, "p \(p), \(bits) bits: \(fast) vs \(reference)")
            }
        }
    }
}

/// Leaving exact zeros out of the scored values (half of a ReLU output) changes the Lp error only by summation order.
@Test func lpErrorWithoutZerosMatchesTheWholeTensor() throws {
    let values = LpClippingTests.samples("gaussian", count: 20_000, seed: 11).map { max($0, 0) }
    for grid in [try QuantizationGrid.unsignedSymmetric(bits: 4), try QuantizationGrid.asymmetric(bits: 8)] {
        let problem = LpClipping.Problem(values: values, grid: grid)
        let skipping = problem.skippingZeros()
        #expect((skipping.scored?.count ?? values.count) < values.count / 2 + 500)
        for t in [0.3, 0.6, 0.9] {
            let params = try problem.parameters(t * problem.upper)
            for p in [2.0, 2.4444, 3.7777] {
                let full = problem.error(params, p: p), skipped = skipping.error(params, p: p)
                #expect(abs(full - skipped) <= 1e-6 * full, "\(grid) t \(t) p \(p): \(full) vs \(skipped)")
            }
        }
    }
}

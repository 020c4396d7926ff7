import Testing
@testable import MPQQuantization

/// The division-free fake-quantization loop (`FakeQuantizer.ReciprocalRounding`, AVX-512 machines) against the
/// division, value by value and bit by bit, on the values where a product by the reciprocal could round differently:
/// exact and near half-integer quotients, clamped and non-finite values, signed zeros and subnormals.
@Suite struct ReciprocalRoundingTests {
    /// QuantizeLinear then DequantizeLinear by division, one value at a time (the kernel's definition).
    static func divided(_ x: Float, _ p: QuantizerParameters) -> Float {
        let (s, z) = (p.scales[0], p.zeroPoints[0])
        if x.isNaN { return .nan }
        let t = min(max((x / s).rounded(.toNearestOrEven) + z, Float(p.qmin)), Float(p.qmax))
        return (t - z) * s
    }

    /// Quotients at and one or two ulps around every half-integer of the code range (and beyond it), non-finite
    /// values, signed zeros, subnormals and a spread of ordinary values.
    static func hardValues(scale s: Float, codes: ClosedRange<Int>) -> [Float] {
        var x: [Float] = [0, -0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                          .greatestFiniteMagnitude, -.greatestFiniteMagnitude, -0.1 * s, 0.1 * s]
        for k in (codes.lowerBound - 3)...(codes.upperBound + 3) {
            let tie = (Float(k) + 0.5) * s
            var below = tie, above = tie
            x.append(tie)
            for _ in 0..<2 {
                below = below.nextDown
                above = above.nextUp
                x += [below, above]
            }
            x.append(Float(k) * s)
        }
        var rng = SeededGenerator(seed: 5)
        x += (0..<2000).map { _ in rng.gaussian() * Float(codes.upperBound) * s * 0.7 }
        return x
    }

    static func expectSameBits(_ x: [Float], _ q: FakeQuantizer) throws {
        let fast = try q.fakeQuantize(x)
        for (i, v) in x.enumerated() {
            let want = divided(v, q.parameters)
            #expect(fast[i].bitPattern == want.bitPattern || (fast[i].isNaN && want.isNaN), "x = \(v) (\(v.bitPattern))")
        }
    }

    @Test func bitIdenticalToTheDivisionNearTiesAndAtTheEdges() throws {
        let parameters = [try QuantizationGrid.signedSymmetric(bits: 8).parameters(alpha: 2.2),
                          try QuantizationGrid.signedSymmetric(bits: 4).parameters(alpha: 0.37),
                          try QuantizationGrid.asymmetric(bits: 8).parameters(lo: -1.3, hi: 4.1),
                          try QuantizationGrid.unsignedSymmetric(bits: 8).parameters(alpha: 6),
                          try QuantizationGrid.signedSymmetric(bits: 8).parameters(alpha: 3e-30),
                          try QuantizationGrid.signedSymmetric(bits: 8).parameters(alpha: 1e30),
                          try QuantizationGrid.signedSymmetric(bits: 12).parameters(alpha: 2.2)]
        for p in parameters {
            let q = FakeQuantizer(p)
            let codes = (p.qmin - Int(p.zeroPoints[0]))...(p.qmax - Int(p.zeroPoints[0]))
            try Self.expectSameBits(Self.hardValues(scale: p.scales[0], codes: codes), q)
        }
    }

    @Test func takesTheLoopOnlyWhereItIsExact() throws {
        let grid8 = try QuantizationGrid.signedSymmetric(bits: 8)
        let eight = try grid8.parameters(alpha: 2.2)
        func loop(_ p: QuantizerParameters) -> FakeQuantizer.ReciprocalRounding? {
            .init(scale: p.scales[0], zeroPoint: p.zeroPoints[0], qmin: Float(p.qmin), qmax: Float(p.qmax))
        }
        #expect((loop(eight) != nil) == FakeQuantizer.ReciprocalRounding.isAvailable)
        #expect(loop(try QuantizationGrid.signedSymmetric(bits: 12).parameters(alpha: 2.2)) == nil)
        #expect(loop(try QuantizationGrid.midRise(bits: 4).parameters(alpha: 2.2)) == nil)
        #expect(loop(try grid8.parameters(alpha: 1e-37)) == nil)  // a subnormal scale
        #expect(loop(try grid8.parameters(alpha: 0)) == nil)
        guard let fast = loop(eight) else { return }  // no AVX-512 here: the division runs, as tested above
        // Ordinary values go through whole; the loop stops at the first vector holding a tie, which the caller divides.
        var x = (0..<64).map { Float($0 % 11) * 0.013 - 0.05 }
        var out = [Float](repeating: 0, count: 64)
        #expect(fast.fakeQuantizeUntilTie(x, into: &out, count: 64) == 64)
        x[37] = 2.5 * eight.scales[0]
        #expect(fast.fakeQuantizeUntilTie(x, into: &out, count: 64) == 32)
        x[37] = .nan
        #expect(fast.fakeQuantizeUntilTie(x, into: &out, count: 64) == 32)
    }
}

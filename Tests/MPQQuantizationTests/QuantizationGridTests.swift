import Foundation
import Testing
import MPQGraph
import MPQExecutor
@testable import MPQQuantization

@Suite struct QuantizationGridTests {
    @Test func fourBitSignedSymmetricAlphaOne() throws {
        let grid = try QuantizationGrid.signedSymmetric(bits: 4)
        #expect(grid.codeRange == -8...7)
        let params = try grid.parameters(alpha: 1)
        #expect(params.scales == [Float(1.0 / 7.0)])
        #expect(params.zeroPoints == [0])
        let q = FakeQuantizer(params)
        // In exact arithmetic 0.5 · 7 = 3.5 would tie to 4, but the deployed scale is float32(1/7) and
        // ONNX QuantizeLinear computes 0.5 / float32(1/7) = 3.4999998 in float32, which rounds to 3.
        // The simulation divides the same way, so its codes are the deployed ones.
        #expect(try q.codes([0.5, -0.5, 1, -1, 0]) == [3, -3, 7, -7, 0])
        #expect(try q.fakeQuantize([0.5]) == [Float(3) * Float(1.0 / 7.0)])
        // An exact tie in float32: 1.5 steps of a power-of-two scale rounds to even.
        let exact = FakeQuantizer(try grid.parameters(alpha: 7 * 0.25))
        #expect(try exact.codes([0.375, 0.625]) == [2, 2])
    }

    /// QuantizeLinear rounds x / scale before adding the zero point. Adding it first can turn a value just
    /// below a half into an exact tie in float32: 0.5 / float32(1/7) = 3.4999998, and 3.4999998 + 100
    /// rounds to 103.5 (ulp 7.6e-6), which would round to even 104; ONNX gives round(3.4999998) + 100 = 103.
    @Test func zeroPointIsAddedAfterRounding() throws {
        let grid = try QuantizationGrid.asymmetric(bits: 8)
        let p = QuantizerParameters(grid: grid, scales: [Float(1.0 / 7.0)], zeroPoints: [100], qmin: 0, qmax: 255, axis: nil)
        #expect(Float(0.5) / Float(1.0 / 7.0) + 100 == 103.5)
        let q = FakeQuantizer(p)
        #expect(try q.codes([0.5, -0.5]) == [103, 97])
        // The SIMD path (16 lanes) and the scalar tail agree with the codes.
        let values = [Float](repeating: 0.5, count: 17)
        #expect(try q.fakeQuantize(values) == [Float](repeating: 3 * Float(1.0 / 7.0), count: 17))
    }

    @Test func tiesToEvenAndClampingAtBothEnds() throws {
        let q = FakeQuantizer(try QuantizationGrid.signedSymmetric(bits: 4).parameters(alpha: 7)) // scale 1
        #expect(try q.codes([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 6.5, 7.4, 100, -7.5, -8.5, -100])
                == [0, 2, 2, 0, -2, -2, 6, 7, 7, -8, -8, -8])
        #expect(try q.fakeQuantize([100, -100, 2.5]) == [7, -8, 2])
        let narrow = FakeQuantizer(try QuantizationGrid.signedSymmetric(bits: 4, narrowRange: true).parameters(alpha: 7))
        #expect(narrow.parameters.qmin == -7)
        #expect(try narrow.codes([-100, 100]) == [-7, 7])
    }

    @Test func unsignedSymmetric() throws {
        let grid = try QuantizationGrid.unsignedSymmetric(bits: 4)
        #expect(grid.codeRange == 0...15)
        let q = FakeQuantizer(try grid.parameters(alpha: 15)) // scale 1
        #expect(try q.codes([-3, 0, 6.5, 7.5, 14.6, 20]) == [0, 0, 6, 8, 15, 15])
        let p8 = try QuantizationGrid.unsignedSymmetric(bits: 8).parameters(alpha: 6)
        #expect(p8.scales == [Float(6.0 / 255.0)])
    }

    @Test func asymmetricZeroPoint() throws {
        let grid = try QuantizationGrid.asymmetric(bits: 8)
        let p = try grid.parameters(lo: -1, hi: 3)
        #expect(p.scales == [Float(4.0 / 255.0)])
        #expect(p.zeroPoints == [64]) // round(255/4 = 63.75)
        #expect(p.qmin == 0 && p.qmax == 255)
        let q = FakeQuantizer(p)
        #expect(try q.codes([0, -1, 3, -5, 10]) == [64, 0, 255, 0, 255])
        #expect(try q.fakeQuantize([0]) == [0]) // zero exactly representable
        // A positive range is widened to include 0.
        let pos = try grid.parameters(lo: 0.5, hi: 2)
        #expect(pos.zeroPoints == [0])
        #expect(pos.scales == [Float(2.0 / 255.0)])
        // Signed storage: same grid, codes shifted by −128.
        let signed = try QuantizationGrid.asymmetric(bits: 8, storage: .signed).parameters(lo: -1, hi: 3)
        #expect(signed.zeroPoints == [-64] && signed.qmin == -128 && signed.qmax == 127)
        let values: [Float] = [-0.7, 0, 0.33, 2.9]
        #expect(try FakeQuantizer(signed).codes(values) == (try q.codes(values)).map { $0 - 128 })
        #expect(try FakeQuantizer(signed).fakeQuantize(values) == (try q.fakeQuantize(values)))
    }

    @Test func midRiseGridContainsPlusMinusAlphaNotZero() throws {
        let grid = try QuantizationGrid.midRise(bits: 2)
        let q = FakeQuantizer(try grid.parameters(alpha: 1)) // step 2/3, grid {−1, −1/3, 1/3, 1}
        let out = try q.fakeQuantize([0, 5, -5, 0.9, -0.2, 0.5])
        let third = Float(1.0 / 3.0)
        // 0 → t = 1.5 → ties to even 2 → +1/3.
        #expect(close(out, [third, 1, -1, 1, -third, third], 1e-6))
        #expect(try q.codes([-1, 1]) == [0, 3])
        // 4-bit: ±α on the grid, 0 not.
        let q4 = FakeQuantizer(try QuantizationGrid.midRise(bits: 4).parameters(alpha: 2))
        let r = try q4.fakeQuantize([2, -2, 0])
        #expect(r[0] == 2 && r[1] == -2 && r[2] != 0)
        #expect(throws: QuantizationError.self) { try QuantizationGrid(bits: 4, signedness: .unsigned, style: .midRise) }
    }

    @Test func invalidConfigurations() {
        #expect(throws: QuantizationError.unsupportedBitWidth(1)) { try QuantizationGrid(bits: 1) }
        #expect(throws: QuantizationError.unsupportedBitWidth(17)) { try QuantizationGrid(bits: 17) }
        #expect(throws: QuantizationError.self) { try QuantizationGrid.signedSymmetric(bits: 8).parameters(alpha: -1) }
        #expect(throws: QuantizationError.self) { try QuantizationGrid.signedSymmetric(bits: 8).parameters(lo: -1, hi: 1) }
        #expect(throws: QuantizationError.self) { try QuantizationGrid.asymmetric(bits: 8).parameters(alpha: 1) }
    }

    @Test func zeroAlphaMapsEverythingToZero() throws {
        let q = FakeQuantizer(try QuantizationGrid.signedSymmetric(bits: 8).parameters(alpha: 0))
        #expect(try q.fakeQuantize([1, -2, 0]) == [0, 0, 0])
    }

    @Test func parametersRoundTripThroughJSON() throws {
        let p = try QuantizationGrid.signedSymmetric(bits: 4).parameters(alphas: [1, 2], axis: 0)
        let data = try JSONEncoder().encode(p)
        let back = try JSONDecoder().decode(QuantizerParameters.self, from: data)
        #expect(back == p)
        #expect(back.grid.bits == 4 && back.axis == 0)
    }
}

@Suite struct FakeQuantizerTests {
    @Test func perChannelAxisZero() throws {
        let p = try QuantizationGrid.signedSymmetric(bits: 4).parameters(alphas: [7, 14], axis: 0) // scales 1, 2
        let q = FakeQuantizer(p)
        let x: [Float] = [1.4, 2.5, -9, 1.4, 5, 100]
        #expect(try q.codes(x, shape: [2, 3]) == [1, 2, -8, 1, 2, 7])
        #expect(try q.fakeQuantize(x, shape: [2, 3]) == [1, 2, -8, 2, 4, 14])
    }

    @Test func perChannelAxisOne() throws {
        let p = try QuantizationGrid.signedSymmetric(bits: 4).parameters(alphas: [7, 14], axis: 1)
        let q = FakeQuantizer(p)
        let x: [Float] = [1.4, 1.4, 2.5, 5, -9, 100]
        #expect(try q.codes(x, shape: [3, 2]) == [1, 1, 2, 2, -8, 7])
        #expect(try q.fakeQuantize(x, shape: [3, 2]) == [1, 2, 2, 4, -8, 14])
        #expect(throws: QuantizationError.self) { try q.fakeQuantize(x, shape: [2, 3]) }
        #expect(throws: QuantizationError.self) { try q.fakeQuantize(x) }
    }

    @Test func simdPathMatchesCodesThenDequantize() throws {
        var rng = SeededGenerator(seed: 7)
        let x = (0..<1037).map { _ in rng.gaussian() * 3 }
        for grid in [try QuantizationGrid.signedSymmetric(bits: 3), try .unsignedSymmetric(bits: 5), try .midRise(bits: 4)] {
            let q = FakeQuantizer(try grid.parameters(alpha: 2.2))
            #expect(try q.fakeQuantize(x) == (try q.dequantize(try q.codes(x))))
        }
        let pc = FakeQuantizer(try QuantizationGrid.signedSymmetric(bits: 4).parameters(alphas: [1, 2, 3], axis: 1))
        #expect(try pc.fakeQuantize(Array(x[0..<(3 * 40)]), shape: [4, 3, 10])
                == (try pc.dequantize(try pc.codes(Array(x[0..<120]), shape: [4, 3, 10]), shape: [4, 3, 10])))
    }

    @Test func outOfPlaceMatchesInPlaceAndLeavesTheSourceAlone() throws {
        var rng = SeededGenerator(seed: 11)
        // Above two parallel grains, so a large per-tensor buffer is split over the kernel threads.
        let count = 2 * FakeQuantizer.parallelGrain + 37
        let x = (0..<count).map { _ in rng.gaussian() * 3 }
        let parameters = [try QuantizationGrid.signedSymmetric(bits: 4).parameters(alpha: 2.5),
                          try QuantizationGrid.asymmetric(bits: 8).parameters(lo: -1.3, hi: 4.1),
                          try QuantizationGrid.midRise(bits: 3).parameters(alpha: 2.5)]
        for p in parameters {
            let q = FakeQuantizer(p)
            let source = Tensor(shape: [count], floats: x)
            let copy = try q.quantized(source)
            #expect(source.asFloats == x)
            var inPlace = x
            try q.fakeQuantizeInPlace(&inPlace)
            #expect(copy.asFloats == inPlace)
            #expect(inPlace == (try q.dequantize(try q.codes(x))))
        }
        let pc = FakeQuantizer(try QuantizationGrid.signedSymmetric(bits: 4).parameters(alphas: [1, 2, 3], axis: 1))
        let small = Tensor(shape: [4, 3, 10], floats: Array(x[0..<120]))
        #expect(try pc.quantized(small).asFloats == (try pc.fakeQuantize(small.asFloats, shape: [4, 3, 10])))
        let ints = Tensor(shape: [1], int64s: [3])
        #expect(try pc.quantized(ints) == ints)
    }

    @Test func hookTransform() throws {
        let q = FakeQuantizer(try QuantizationGrid.signedSymmetric(bits: 4).parameters(alpha: 7))
        let hooks = TensorHooks(["w": q.transform])
        let t = Tensor(shape: [2, 2], floats: [0.5, 1.5, 9, -9])
        #expect(hooks["w"]!(t) == Tensor(shape: [2, 2], floats: [0, 2, 7, -8]))
        let ints = Tensor(shape: [1], int64s: [3])
        #expect(hooks["w"]!(ints) == ints)
    }
}

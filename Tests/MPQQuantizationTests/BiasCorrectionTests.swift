import Foundation
import Testing
import MPQGraph
@testable import MPQQuantization

@Suite struct BiasCorrectionTests {
    static func random(_ n: Int, seed: UInt64, offset: Float = 0) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in rng.gaussian() + offset }
    }

    static func quantize(_ w: Tensor, axis: Int) throws -> Tensor {
        let clip = try LpClipping.minMaxPerChannel(w.floats!, shape: w.shape, axis: axis, grid: try .signedSymmetric(bits: 3))
        return try FakeQuantizer(clip)(w)
    }

    @Test func groupedConvShiftMatchesDirectSum() throws {
        // Cin = 4, groups = 2, Cout = 4: weight [4, 2, 2, 2]; input [2, 4, 3, 3].
        let w = Tensor(shape: [4, 2, 2, 2], floats: Self.random(32, seed: 1))
        let wq = try Self.quantize(w, axis: 0)
        let x = Tensor(shape: [2, 4, 3, 3], floats: Self.random(72, seed: 2, offset: 0.7))
        let means = try BiasCorrection.inputChannelMeans(x, layout: .conv(groups: 2))
        // Direct means.
        for c in 0..<4 {
            var s = 0.0
            for n in 0..<2 { for i in 0..<9 { s += Double(x.floats![(n * 4 + c) * 9 + i]) } }
            #expect(abs(Double(means[c]) - s / 18) < 1e-6)
        }
        let shift = try BiasCorrection.outputShift(weight: w, quantized: wq, layout: .conv(groups: 2), inputMeans: means)
        for c in 0..<4 {
            let g = c / 2
            var expected = 0.0
            for j in 0..<2 { for k in 0..<4 {
                let idx = (c * 2 + j) * 4 + k
                expected += Double(wq.floats![idx] - w.floats![idx]) * Double(means[g * 2 + j])
            } }
            #expect(abs(Double(shift[c]) - expected) < 1e-5)
        }
        let bias: [Float] = [1, 2, 3, 4]
        let corrected = try BiasCorrection.correctedBias(bias, weight: w, quantized: wq, layout: .conv(groups: 2), inputActivation: x)
        #expect(close(corrected, zip(bias, shift).map { $0 - $1 }, 1e-6))
    }

    @Test func pointwiseConvShiftEqualsMeanOutputChange() throws {
        // With 1×1 kernels the expected shift is exactly the mean change of the conv output.
        let w = Tensor(shape: [3, 2, 1, 1], floats: Self.random(6, seed: 3))
        let wq = try Self.quantize(w, axis: 0)
        let x = Tensor(shape: [2, 2, 2, 2], floats: Self.random(16, seed: 4, offset: 1))
        let means = try BiasCorrection.inputChannelMeans(x, layout: .conv(groups: 1))
        let shift = try BiasCorrection.outputShift(weight: w, quantized: wq, layout: .conv(groups: 1), inputMeans: means)
        for c in 0..<3 {
            var s = 0.0
            for n in 0..<2 { for pix in 0..<4 { for k in 0..<2 {
                s += Double(wq.floats![c * 2 + k] - w.floats![c * 2 + k]) * Double(x.floats![(n * 2 + k) * 4 + pix])
            } } }
            #expect(abs(Double(shift[c]) - s / 8) < 1e-5)
        }
    }

    /// Mean over rows of (X·Ŵ − X·W) per output channel, computed directly.
    static func meanOutputChange(x: [Float], rows: Int, k: Int, delta: (Int, Int) -> Float, n: Int) -> [Double] {
        (0..<n).map { c in
            var s = 0.0
            for r in 0..<rows { for j in 0..<k { s += Double(x[r * k + j]) * Double(delta(j, c)) } }
            return s / Double(rows)
        }
    }

    @Test func gemmBothLayoutsAndMatMul() throws {
        let x = Tensor(shape: [5, 3], floats: Self.random(15, seed: 5, offset: 0.5))
        // transB: B is [N=4, K=3].
        let bt = Tensor(shape: [4, 3], floats: Self.random(12, seed: 6))
        let btq = try Self.quantize(bt, axis: 0)
        let s1 = try BiasCorrection.outputShift(weight: bt, quantized: btq, layout: .gemm(transA: false, transB: true),
                                                inputMeans: BiasCorrection.inputChannelMeans(x, layout: .gemm(transA: false, transB: true)))
        let e1 = Self.meanOutputChange(x: x.floats!, rows: 5, k: 3, delta: { j, c in btq.floats![c * 3 + j] - bt.floats![c * 3 + j] }, n: 4)
        #expect(zip(s1, e1).allSatisfy { abs(Double($0) - $1) < 1e-5 })
        // No transB: B is [K=3, N=4]; MatMul uses the same layout.
        let b = Tensor(shape: [3, 4], floats: Self.random(12, seed: 7))
        let bq = try Self.quantize(b, axis: 1)
        let e2 = Self.meanOutputChange(x: x.floats!, rows: 5, k: 3, delta: { j, c in bq.floats![j * 4 + c] - b.floats![j * 4 + c] }, n: 4)
        for layout in [WeightLayout.gemm(transA: false, transB: false), .matMul] {
            let s2 = try BiasCorrection.outputShift(weight: b, quantized: bq, layout: layout,
                                                    inputMeans: BiasCorrection.inputChannelMeans(x, layout: layout))
            #expect(zip(s2, e2).allSatisfy { abs(Double($0) - $1) < 1e-5 })
        }
        // transA: A is [K=3, M=5]: means over axis 1.
        let xt = Tensor(shape: [3, 5], floats: (0..<15).map { i in x.floats![(i % 5) * 3 + i / 5] })
        #expect(close(try BiasCorrection.inputChannelMeans(xt, layout: .gemm(transA: true, transB: false)),
                      try BiasCorrection.inputChannelMeans(x, layout: .matMul), 1e-6))
        #expect(throws: QuantizationError.self) {
            try BiasCorrection.outputShift(weight: b, quantized: bq, layout: .matMul, inputMeans: [1, 2])
        }
    }

    @Test func paperMeanShiftRestoresChannelMeans() throws {
        let w = Tensor(shape: [3, 2, 2, 2], floats: Self.random(24, seed: 8, offset: 0.3))
        let wq = try Self.quantize(w, axis: 0)
        let corrected = try BiasCorrection.meanShiftCorrectedWeights(weight: w, quantized: wq, layout: .conv(groups: 1))
        for c in 0..<3 {
            let range = (c * 8)..<((c + 1) * 8)
            let mw = w.floats![range].reduce(0, +) / 8, mc = corrected.floats![range].reduce(0, +) / 8
            #expect(abs(mw - mc) < 1e-5)
            // Shape of the change: a constant per channel.
            let d = zip(corrected.floats![range], wq.floats![range]).map { $0 - $1 }
            #expect(d.allSatisfy { abs($0 - d[0]) < 1e-6 })
        }
        // Gemm transB = false: channels are columns.
        let b = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let bq = Tensor(shape: [2, 3], floats: [1, 2, 4, 4, 6, 6])
        let cb = try BiasCorrection.meanShiftCorrectedWeights(weight: b, quantized: bq, layout: .gemm(transA: false, transB: false))
        #expect(cb.floats! == [1, 1.5, 3.5, 4, 5.5, 5.5])
    }
}

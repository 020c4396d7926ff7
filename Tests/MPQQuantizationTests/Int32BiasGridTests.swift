import Testing
@testable import MPQQuantization

/// The int32 bias grid, against hand-computed codes (ONNX Runtime's quantization tool:
/// scale = input scale × weight scale in float32, code = round_half_even(b / scale), zero point 0).
@Suite struct Int32BiasGridTests {
    @Test func perChannelCodesAndValues() throws {
        // Weight scales 0.25, 0 (an all-zero channel: exported with scale 1) and 2 at input scale 0.5.
        let grid = try Int32BiasGrid(inputScale: 0.5, weightScales: [0.25, 0, 2])
        #expect(grid.scales == [0.125, 0.5, 1])
        #expect(grid.isPerChannel)
        // 0.3 / 0.125 = 2.4 → 2; −0.26 / 0.5 = −0.52 → −1; 2.5 / 1 → 2 (half to even).
        #expect(try grid.codes([0.3, -0.26, 2.5]) == [2, -1, 2])
        #expect(try grid.fakeQuantize([0.3, -0.26, 2.5]) == [0.25, -0.5, 2])
    }

    @Test func scaleIsTheFloat32Product() throws {
        let input: Float = 0.013416589, weight: Float = 0.0017
        let grid = try Int32BiasGrid(inputScale: input, weightScales: [weight])
        #expect(grid.scales == [input * weight])
        #expect(!grid.isPerChannel)
        // A per-tensor grid applies its one scale to every bias value.
        let b: [Float] = [0.1, -0.2, 0.05]
        #expect(try grid.codes(b) == b.map { Int32(($0 / (input * weight)).rounded(.toNearestOrEven)) })
    }

    @Test func saturatesToInt32() throws {
        let grid = try Int32BiasGrid(inputScale: 1, weightScales: [1])
        // Float(Int32.max) is 2^31, which does not fit: codes stop at the largest float below it.
        #expect(try grid.codes([1e10, -1e10]) == [2_147_483_520, Int32.min])
    }

    @Test func refusesUnusableScalesAndChannelCounts() throws {
        #expect(throws: QuantizationError.self) { try Int32BiasGrid(inputScale: 0, weightScales: [1]) }
        #expect(throws: QuantizationError.self) { try Int32BiasGrid(inputScale: .infinity, weightScales: [1]) }
        #expect(throws: QuantizationError.self) { try Int32BiasGrid(inputScale: 1, weightScales: [-1]) }
        let grid = try Int32BiasGrid(inputScale: 1, weightScales: [1, 2])
        #expect(throws: QuantizationError.channelMismatch("a bias of 3 values for an int32 grid of 2 channel scales")) {
            try grid.codes([1, 2, 3])
        }
    }
}

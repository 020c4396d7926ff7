/// The int32 grid a Conv/Gemm bias is deployed on: zero point 0 and scale = input scale × weight
/// scale, one per output channel for a per-channel weight.
///
/// Integer kernels (ONNX Runtime's QLinearConv and QGemm, most NPUs) add the bias to the int32
/// accumulator of Σ x_code · w_code, whose unit is exactly that product, so a float bias cannot be
/// deployed: it is rounded to this grid, and ONNX Runtime's quantization tool writes it as an int32
/// initializer with DequantizeLinear. The arithmetic follows that tool (numpy float32):
/// scale = float32(input scale · weight scale); code = clip(round_half_even(b / scale), int32);
/// dequantized b̂ = float32(code) · scale. mpq rounds biases with the same grid wherever it simulates a
/// plan, so the simulated model is the deployed one.
///
/// A zero weight scale (an all-zero weight channel, whose output is its bias) counts as 1, the scale
/// the QDQ export writes for such a channel, so the bias keeps a usable grid.
public struct Int32BiasGrid: Sendable, Hashable {
    /// The largest float32 not above Int32.max (2³¹ − 128): codes are clamped to it and −2³¹.
    static let codeRange: ClosedRange<Float> = Float(Int32.min)...Float(Int32.max).nextDown

    /// One scale per output channel, or a single one for a per-tensor weight.
    public let scales: [Float]

    /// The grid for an input scale and the weight's scale(s).
    public init(inputScale: Float, weightScales: [Float]) throws {
        guard inputScale.isFinite, inputScale > 0 else {
            throw QuantizationError.invalidArgument("an int32 bias grid needs a positive, finite input scale; got \(inputScale)")
        }
        guard !weightScales.isEmpty, weightScales.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw QuantizationError.invalidArgument("an int32 bias grid needs finite, non-negative weight scales")
        }
        scales = weightScales.map { inputScale * ($0 == 0 ? 1 : $0) }
    }

    /// Whether the grid has one scale per channel (DequantizeLinear with axis 0 on the 1-D bias).
    public var isPerChannel: Bool { scales.count > 1 }

    /// The integer codes of a bias (one value per scale, or any count for a single scale).
    public func codes(_ bias: [Float]) throws -> [Int32] {
        try checkCount(bias.count)
        return bias.indices.map { i in Int32(code(bias[i], scale: scale(at: i))) }
    }

    /// The bias on the grid: what DequantizeLinear of `codes(bias)` gives.
    public func fakeQuantize(_ bias: [Float]) throws -> [Float] {
        try checkCount(bias.count)
        return bias.indices.map { i in
            let s = scale(at: i)
            return code(bias[i], scale: s) * s
        }
    }

    @inline(__always)
    private func scale(at i: Int) -> Float { scales.count == 1 ? scales[0] : scales[i] }

    @inline(__always)
    private func code(_ b: Float, scale: Float) -> Float {
        min(max((b / scale).rounded(.toNearestOrEven), Self.codeRange.lowerBound), Self.codeRange.upperBound)
    }

    private func checkCount(_ count: Int) throws {
        guard scales.count == 1 || count == scales.count else {
            throw QuantizationError.channelMismatch("a bias of \(count) values for an int32 grid of \(scales.count) channel scales")
        }
    }
}

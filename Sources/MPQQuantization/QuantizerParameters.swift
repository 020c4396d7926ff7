/// The concrete numbers of a uniform quantizer: scale(s), zero point(s), code range and,
/// for per-channel quantizers, the channel axis.
///
/// Quantization (as ONNX QuantizeLinear): code = clamp(round_half_even(x / scale) + zeroPoint, qmin, qmax);
/// dequantization: x̂ = (code − zeroPoint) · scale. For deployable grids the zero points are
/// integers; for the mid-rise grid the zero point is the half-integer (2^b−1)/2.
///
/// `inverseScale` is stored next to `scale`, computed from the clipping value directly
/// ((2^(b−1)−1)/α rather than 1/scale). Only the Lp clipping search uses it, to score candidate
/// clipping values quickly; `FakeQuantizer` divides by `scale` so simulated codes are deployed ones.
/// When decoding JSON without it, it is recomputed as 1/scale.
public struct QuantizerParameters: Sendable, Hashable, Codable {
    /// The grid these parameters belong to.
    public var grid: QuantizationGrid
    /// One scale per channel, or a single one for per-tensor quantizers.
    public var scales: [Float]
    /// The reciprocal of each scale, as used when quantizing (0 for a degenerate zero scale).
    public var inverseScales: [Float]
    /// One zero point per channel (integer-valued for deployable grids).
    public var zeroPoints: [Float]
    /// The smallest code.
    public var qmin: Int
    /// The largest code.
    public var qmax: Int
    /// The per-channel axis, or nil for a per-tensor quantizer.
    public var axis: Int?

    public init(grid: QuantizationGrid, scales: [Float], inverseScales: [Float]? = nil, zeroPoints: [Float],
                qmin: Int, qmax: Int, axis: Int?) {
        precondition(scales.count == zeroPoints.count && !scales.isEmpty, "one scale and zero point per channel")
        self.grid = grid
        self.scales = scales
        self.inverseScales = inverseScales ?? scales.map { $0 == 0 ? 0 : 1 / $0 }
        self.zeroPoints = zeroPoints
        self.qmin = qmin
        self.qmax = qmax
        self.axis = axis
    }

    /// Number of channels (1 for per-tensor).
    public var channelCount: Int { scales.count }

    /// Whether there is one scale per channel.
    public var isPerChannel: Bool { axis != nil }

    /// The zero points as integers (rounded; exact for deployable grids).
    public var integerZeroPoints: [Int] { zeroPoints.map { Int($0.rounded(.toNearestOrEven)) } }

    /// The representable real range [ (qmin − zp)·scale, (qmax − zp)·scale ] of a channel.
    public func representableRange(channel: Int = 0) -> ClosedRange<Float> {
        let s = scales[channel], z = zeroPoints[channel]
        return ((Float(qmin) - z) * s)...((Float(qmax) - z) * s)
    }

    private enum CodingKeys: String, CodingKey {
        case grid, scales, inverseScales, zeroPoints, qmin, qmax, axis
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let grid = try c.decode(QuantizationGrid.self, forKey: .grid)
        let scales = try c.decode([Float].self, forKey: .scales)
        let zeros = try c.decode([Float].self, forKey: .zeroPoints)
        guard scales.count == zeros.count, !scales.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .zeroPoints, in: c,
                                                   debugDescription: "one scale and one zero point per channel")
        }
        self.init(grid: grid, scales: scales,
                  inverseScales: try c.decodeIfPresent([Float].self, forKey: .inverseScales),
                  zeroPoints: zeros, qmin: try c.decode(Int.self, forKey: .qmin),
                  qmax: try c.decode(Int.self, forKey: .qmax), axis: try c.decodeIfPresent(Int.self, forKey: .axis))
    }
}

/// A uniform quantization grid: bit-width, signedness, symmetry and style.
///
/// Two styles exist:
/// - `.deployable`: integer codes with an integer zero point, so 0 is exactly representable.
///   * signed symmetric: codes in [−2^(b−1), 2^(b−1)−1] (or [−(2^(b−1)−1), 2^(b−1)−1] with
///     `narrowRange`), zero point 0, scale = α/(2^(b−1)−1). The full range reaches −α·(1 + 1/L)
///     on the negative side (L = 2^(b−1)−1), +α on the positive side.
///   * unsigned symmetric (non-negative tensors): codes in [0, 2^b−1], zero point 0, scale = α/(2^b−1).
///   * asymmetric: a range [lo, hi] is first widened to contain 0 (lo ≤ 0 ≤ hi) so 0 is exactly
///     representable, then scale = (hi−lo)/(2^b−1) and zeroPoint = round(−lo/scale). With
///     `.unsigned` storage the codes are [0, 2^b−1]; with `.signed` storage the same grid is
///     stored shifted by −2^(b−1): codes [−2^(b−1), 2^(b−1)−1], zeroPoint − 2^(b−1).
///     Both storages represent exactly the same real values.
/// - `.midRise`: the LAPQ paper's weight grid, signed and symmetric only:
///   step = 2α/(2^b−1), q = round((clamp(w, −α, α)+α)/step)·step − α. It contains ±α but not 0.
///   In code form it is codes [0, 2^b−1] with a half-integer zero point (2^b−1)/2; it is meant
///   for reproducing the paper, not for export.
public struct QuantizationGrid: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Whether codes (or, for symmetric grids, the represented range) include negative values.
    public enum Signedness: String, Sendable, Hashable, Codable {
        case signed
        case unsigned
    }

    /// Which family of grid.
    public enum Style: String, Sendable, Hashable, Codable {
        /// Integer codes with an integer zero point (0 on the grid); what export uses.
        case deployable
        /// The paper's mid-rise weight grid (±α on the grid, 0 not).
        case midRise
    }

    /// Bit-width, 2...16.
    public let bits: Int
    public let signedness: Signedness
    /// Symmetric grids are parameterised by one clipping value α; asymmetric ones by a range [lo, hi].
    public let symmetric: Bool
    public let style: Style
    /// Signed symmetric deployable grids only: drop the code −2^(b−1) so the grid is symmetric about 0.
    public let narrowRange: Bool

    /// Validates and creates a grid.
    public init(bits: Int, signedness: Signedness = .signed, symmetric: Bool = true,
                style: Style = .deployable, narrowRange: Bool = false) throws {
        guard (2...16).contains(bits) else { throw QuantizationError.unsupportedBitWidth(bits) }
        if style == .midRise {
            guard signedness == .signed, symmetric else {
                throw QuantizationError.invalidGrid("a mid-rise grid must be signed and symmetric")
            }
            guard !narrowRange else { throw QuantizationError.invalidGrid("narrowRange does not apply to a mid-rise grid") }
        }
        if narrowRange && !(signedness == .signed && symmetric) {
            throw QuantizationError.invalidGrid("narrowRange applies only to signed symmetric grids")
        }
        self.bits = bits
        self.signedness = signedness
        self.symmetric = symmetric
        self.style = style
        self.narrowRange = narrowRange
    }

    /// A signed symmetric deployable grid (the usual weight grid).
    public static func signedSymmetric(bits: Int, narrowRange: Bool = false) throws -> QuantizationGrid {
        try QuantizationGrid(bits: bits, signedness: .signed, symmetric: true, style: .deployable, narrowRange: narrowRange)
    }

    /// An unsigned symmetric deployable grid over [0, α] (activations after Relu and the like).
    public static func unsignedSymmetric(bits: Int) throws -> QuantizationGrid {
        try QuantizationGrid(bits: bits, signedness: .unsigned, symmetric: true, style: .deployable)
    }

    /// An asymmetric deployable grid over a range [lo, hi] with codes stored unsigned by default.
    public static func asymmetric(bits: Int, storage: Signedness = .unsigned) throws -> QuantizationGrid {
        try QuantizationGrid(bits: bits, signedness: storage, symmetric: false, style: .deployable)
    }

    /// The LAPQ paper's mid-rise weight grid.
    public static func midRise(bits: Int) throws -> QuantizationGrid {
        try QuantizationGrid(bits: bits, signedness: .signed, symmetric: true, style: .midRise)
    }

    /// Number of grid points minus one: 2^b − 1.
    public var levels: Int { (1 << bits) - 1 }

    /// The smallest and largest integer code.
    public var codeRange: ClosedRange<Int> {
        switch (style, symmetric, signedness) {
        case (.midRise, _, _): return 0...levels
        case (.deployable, true, .signed):
            let half = 1 << (bits - 1)
            return (narrowRange ? -(half - 1) : -half)...(half - 1)
        case (.deployable, true, .unsigned): return 0...levels
        case (.deployable, false, .unsigned): return 0...levels
        case (.deployable, false, .signed):
            let half = 1 << (bits - 1)
            return -half...(half - 1)
        }
    }

    /// How many codes span the clipping value α (symmetric grids): α = scale · this.
    /// Signed deployable: 2^(b−1)−1; unsigned: 2^b−1; mid-rise: (2^b−1)/2 (half-integer).
    var alphaInSteps: Double {
        switch (style, signedness) {
        case (.midRise, _): return Double(levels) / 2
        case (.deployable, .signed): return Double((1 << (bits - 1)) - 1)
        case (.deployable, .unsigned): return Double(levels)
        }
    }

    /// Quantizer parameters for one clipping value α ≥ 0 (symmetric grids).
    ///
    /// α = 0 gives a degenerate quantizer that maps everything to 0.
    public func parameters(alpha: Float) throws -> QuantizerParameters {
        try parameters(alphas: [alpha], axis: nil)
    }

    /// Per-channel quantizer parameters: one clipping value per channel along `axis`
    /// (`axis` nil requires exactly one α: per-tensor).
    public func parameters(alphas: [Float], axis: Int?) throws -> QuantizerParameters {
        guard symmetric else {
            throw QuantizationError.invalidGrid("an asymmetric grid needs a range [lo, hi], not a clipping value")
        }
        try Self.checkChannels(alphas.count, axis: axis)
        var scales: [Float] = [], inverse: [Float] = []
        scales.reserveCapacity(alphas.count); inverse.reserveCapacity(alphas.count)
        let steps = alphaInSteps
        for a in alphas {
            guard a.isFinite, a >= 0 else { throw QuantizationError.invalidClipping("clipping value \(a) must be finite and ≥ 0") }
            if a == 0 {
                scales.append(0); inverse.append(0)
            } else {
                // The inverse scale comes from α directly (not 1/scale) so that grid ties such as
                // 0.5·7 = 3.5 for α = 1 at 4 bits stay exact.
                scales.append(Float(Double(a) / steps))
                inverse.append(Float(steps / Double(a)))
            }
        }
        let zero: Float = style == .midRise ? Float(levels) / 2 : 0
        let r = codeRange
        return QuantizerParameters(grid: self, scales: scales, inverseScales: inverse,
                                   zeroPoints: [Float](repeating: zero, count: alphas.count),
                                   qmin: r.lowerBound, qmax: r.upperBound, axis: axis)
    }

    /// Quantizer parameters for a range (asymmetric grids). The range is widened to contain 0.
    public func parameters(lo: Float, hi: Float) throws -> QuantizerParameters {
        try parameters(ranges: [(lo, hi)], axis: nil)
    }

    /// Per-channel asymmetric parameters, one range per channel along `axis`.
    public func parameters(ranges: [(lo: Float, hi: Float)], axis: Int?) throws -> QuantizerParameters {
        guard !symmetric else {
            throw QuantizationError.invalidGrid("a symmetric grid takes a clipping value α, not a range")
        }
        try Self.checkChannels(ranges.count, axis: axis)
        let shift = signedness == .signed ? Float(1 << (bits - 1)) : 0
        var scales: [Float] = [], inverse: [Float] = [], zeros: [Float] = []
        for (l, h) in ranges {
            guard l.isFinite, h.isFinite, l <= h else {
                throw QuantizationError.invalidClipping("range [\(l), \(h)] must be finite with lo ≤ hi")
            }
            let lo = Double(min(l, 0)), hi = Double(max(h, 0))
            if hi - lo == 0 {
                scales.append(0); inverse.append(0); zeros.append(-shift)
                continue
            }
            let scale = (hi - lo) / Double(levels)
            let inv = Double(levels) / (hi - lo)
            let zp = (-lo * inv).rounded(.toNearestOrEven)
            scales.append(Float(scale)); inverse.append(Float(inv))
            zeros.append(Float(min(max(zp, 0), Double(levels))) - shift)
        }
        let r = codeRange
        return QuantizerParameters(grid: self, scales: scales, inverseScales: inverse, zeroPoints: zeros,
                                   qmin: r.lowerBound, qmax: r.upperBound, axis: axis)
    }

    private static func checkChannels(_ count: Int, axis: Int?) throws {
        guard count >= 1 else { throw QuantizationError.channelMismatch("no clipping values given") }
        if axis == nil, count != 1 {
            throw QuantizationError.channelMismatch("\(count) clipping values given for a per-tensor quantizer")
        }
        if let axis, axis < 0 { throw QuantizationError.channelMismatch("negative axis \(axis)") }
    }

    public var description: String {
        var s = "\(bits)-bit \(signedness.rawValue) \(symmetric ? "symmetric" : "asymmetric") \(style.rawValue)"
        if narrowRange { s += " narrow-range" }
        return s
    }
}

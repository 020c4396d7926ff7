import MPQQuantization

/// A quantized tensor as written to steps and plan files: grid, steps, zero points and range.
public struct QuantizerRecord: Sendable, Codable, Equatable {
    public var name: String
    public var role: String
    public var layer: String
    /// The planner's quantizer group, when the tensor belongs to a plan.
    public var group: String?
    public var bits: Int
    public var grid: QuantizationGrid
    /// Per-channel axis, or nil for one step for the whole tensor.
    public var axis: Int?
    public var scales: [Float]
    public var zeroPoints: [Int]
    public var qmin: Int
    public var qmax: Int
    /// Representable range per channel: (qmin − zero point)·scale and (qmax − zero point)·scale.
    public var min: [Float]
    public var max: [Float]
    /// Multiplier the joint search applied to the initial steps.
    public var multiplier: Double

    public init(_ q: TensorQuantizer, multiplier: Double = 1, group: String? = nil) {
        let p = q.parameters(multiplier: multiplier)
        name = q.name
        role = q.role.rawValue
        layer = q.layer
        self.group = group
        bits = q.grid.bits
        grid = q.grid
        axis = p.axis
        scales = p.scales
        zeroPoints = p.integerZeroPoints
        qmin = p.qmin
        qmax = p.qmax
        min = p.scales.indices.map { p.representableRange(channel: $0).lowerBound }
        max = p.scales.indices.map { p.representableRange(channel: $0).upperBound }
        self.multiplier = multiplier
    }
}

extension TensorQuantizer {
    /// The quantizer a plan file's record describes (its steps already include the refinement multiplier), or nil
    /// when the record's role or step list is invalid.
    public init?(record r: QuantizerRecord) {
        guard let role = Role(rawValue: r.role), !r.scales.isEmpty, r.scales.count == r.zeroPoints.count else { return nil }
        let parameters = QuantizerParameters(grid: r.grid, scales: r.scales, zeroPoints: r.zeroPoints.map(Float.init),
                                             qmin: r.qmin, qmax: r.qmax, axis: r.axis)
        self.init(name: r.name, role: role, axis: r.axis, grid: r.grid, base: parameters, layer: r.layer)
    }
}

import MPQExecutor
import MPQGraph
import MPQQuantization

/// One quantized tensor of the simulation: which tensor, its grid, and its base step sizes.
///
/// The search variable of a quantizer is a multiplier on its base steps (LAPQ's clipping value α
/// scaled by its initial value, which puts every variable on the same footing for Powell).
public struct TensorQuantizer: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable {
        case weight
        case activation
    }

    /// The quantized tensor's name in the graph.
    public var name: String
    public var role: Role
    /// Per-channel axis for weights; nil for per-tensor.
    public var axis: Int?
    public var grid: QuantizationGrid
    /// Step sizes (and zero points) at multiplier 1.
    public var base: QuantizerParameters
    /// The layer (node name) whose weight this is, or whose input/output this activation is.
    public var layer: String

    public init(name: String, role: Role, axis: Int?, grid: QuantizationGrid, base: QuantizerParameters, layer: String) {
        self.name = name
        self.role = role
        self.axis = axis
        self.grid = grid
        self.base = base
        self.layer = layer
    }

    /// The parameters with every step scaled by `multiplier` (zero points are unchanged, so an
    /// asymmetric range scales about zero).
    public func parameters(multiplier: Double = 1) -> QuantizerParameters {
        guard multiplier != 1 else { return base }
        var p = base
        let m = Float(max(multiplier, 1e-6))
        p.scales = base.scales.map { $0 * m }
        p.inverseScales = p.scales.map { $0 == 0 ? 0 : 1 / $0 }
        return p
    }

    /// The hook that fake-quantizes this tensor at `multiplier`.
    public func setting(multiplier: Double = 1) -> QuantizerSetting {
        Self.setting(parameters(multiplier: multiplier))
    }

    /// The hook that fake-quantizes a tensor with `parameters`.
    public static func setting(_ parameters: QuantizerParameters) -> QuantizerSetting {
        let grid = parameters.grid
        let quantizer = FakeQuantizer(parameters)
        let key = grid.description + "|" + QuantizerSetting.keyPart(parameters.scales) + "|" + QuantizerSetting.keyPart(parameters.zeroPoints)
        return QuantizerSetting(key: key, actsPerElement: parameters.axis == nil, transform: { tensor in
            var tensor = tensor
            try? quantizer.quantizeInPlace(&tensor)
            return tensor
        }, outOfPlace: { tensor in (try? quantizer.quantized(tensor)) ?? tensor })
    }
}

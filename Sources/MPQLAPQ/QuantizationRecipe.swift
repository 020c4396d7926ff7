import MPQGraph
import MPQQuantization

/// Which tensors get which grid: the policy's tensors at the given bit-widths.
public struct QuantizationRecipe: Sendable {
    public var bits: BitWidths
    public var policy: QuantizationPolicy
    /// Use the paper's mid-rise weight grid (not deployable; for reproducing LAPQ's figures).
    public var midRiseWeights: Bool

    public init(bits: BitWidths, policy: QuantizationPolicy = QuantizationPolicy(), midRiseWeights: Bool = false) {
        self.bits = bits
        self.policy = policy
        self.midRiseWeights = midRiseWeights
    }

    /// The quantizer targets for `graph`: signed symmetric weights (per-channel when the policy says),
    /// unsigned activations where they are non-negative, signed symmetric otherwise.
    public func targets(in graph: Graph) throws -> [QuantizerTarget] {
        try policy.tensors(in: graph).map { tensor in
            switch tensor.role {
            case .weight(let axis):
                let grid = midRiseWeights ? try QuantizationGrid.midRise(bits: bits.weight)
                                          : try QuantizationGrid.signedSymmetric(bits: bits.weight)
                return QuantizerTarget(name: tensor.name, role: .weight, axis: midRiseWeights ? nil : axis, grid: grid, layer: tensor.layer)
            case .activation:
                let grid = tensor.signedness == .unsigned ? try QuantizationGrid.unsignedSymmetric(bits: bits.activation)
                                                          : try QuantizationGrid.signedSymmetric(bits: bits.activation)
                return QuantizerTarget(name: tensor.name, role: .activation, axis: nil, grid: grid, layer: tensor.layer)
            }
        }
    }
}

import MPQLAPQ
import MPQPlanner
import MPQQuantization

extension Candidate {
    /// The quantizer targets of a group's tensors at this candidate; empty for a float candidate
    /// (FP16 and wider floats are simulated as exact).
    public func targets(for group: QuantizerGroup) throws -> [QuantizerTarget] {
        guard numericFormat == .int else { return [] }
        return try group.tensors.map { tensor in
            switch tensor.role {
            case .weight(let axis):
                let grid = symmetric
                    ? (weightSigned == .unsigned ? try QuantizationGrid.unsignedSymmetric(bits: weightBits)
                                                 : try QuantizationGrid.signedSymmetric(bits: weightBits))
                    : try QuantizationGrid.asymmetric(bits: weightBits)
                return QuantizerTarget(name: tensor.name, role: .weight, axis: perChannel ? axis : nil, grid: grid, layer: tensor.layer)
            case .activation:
                let unsigned: Bool
                switch activationSigned {
                case .auto: unsigned = tensor.signedness == .unsigned
                case .unsigned: unsigned = true
                case .signed: unsigned = false
                }
                let grid = !symmetric ? try QuantizationGrid.asymmetric(bits: activationBits)
                    : unsigned ? try QuantizationGrid.unsignedSymmetric(bits: activationBits)
                    : try QuantizationGrid.signedSymmetric(bits: activationBits)
                return QuantizerTarget(name: tensor.name, role: .activation, axis: nil, grid: grid, layer: tensor.layer)
            }
        }
    }
}

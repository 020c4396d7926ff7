import MPQGraph

/// Per-node figures for reports and cost models: weights, parameter count, MACs, output shape.
public struct LayerStatistics: Sendable, Equatable, Codable {
    public var name: String
    public var opType: String
    /// Shape of the layer's weight (the constant second input of Conv/Gemm/MatMul), if any.
    public var weightShape: [Int]?
    /// Elements in the node's constant float inputs (weights and biases).
    public var parameters: Int
    /// Multiply-accumulates for the compiled batch.
    public var macs: Int
    /// Shape of the first output.
    public var outputShape: [Int]
}

extension ExecutionPlan {
    /// Figures for every compiled node, in execution order.
    public func layerStatistics() -> [LayerStatistics] {
        steps.map { step in
            let node = step.node
            let inputTypes = step.inputs.map { $0.map { valueTypes[$0] } }
            let constantInputs = step.inputs.enumerated().compactMap { (i, s) -> (Int, Tensor)? in
                guard let s, !foldedSlots.contains(s), let c = constants[s], c.elementType == .float32 else { return nil }
                return (i, c)
            }
            // Weights and biases of weighted layers; elsewhere only non-scalar constants (Clip bounds are not parameters).
            let weighted = ["Conv", "Gemm", "MatMul"].contains(node.opType)
            let parameters = constantInputs.filter { weighted || $0.1.count > 1 }.reduce(0) { $0 + $1.1.count }
            let out = step.op.outputTypes.first?.shape ?? []
            var weightShape: [Int]? = nil
            var macs = 0
            switch node.opType {
            case "Conv":
                if let w = inputTypes[1]?.shape, w.count >= 2 {
                    weightShape = w
                    // Each output element sums over C_in/group × kernel elements.
                    macs = Tensor.count(of: out) * w.dropFirst().reduce(1, *)
                }
            case "Gemm", "MatMul":
                if let a = inputTypes[0]?.shape, let b = inputTypes[1]?.shape {
                    if constantInputs.contains(where: { $0.0 == 1 }) { weightShape = b }
                    let transA = (try? node.int("transA", default: 0)) ?? 0
                    let k = node.opType == "Gemm" ? (transA != 0 ? a.first ?? 1 : a.last ?? 1) : (a.last ?? 1)
                    macs = Tensor.count(of: out) * k
                }
            default:
                break
            }
            return LayerStatistics(name: node.displayName, opType: node.opType, weightShape: weightShape,
                                   parameters: parameters, macs: macs, outputShape: out)
        }
    }
}

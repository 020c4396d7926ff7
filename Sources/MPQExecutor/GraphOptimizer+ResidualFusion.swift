import MPQGraph

/// Residual fusion: a LayerNormalization of an Add (a transformer's residual connection, `LN(x + sublayer(x))`)
/// adds the two operands itself, row by row while each row is in cache, instead of a separate pass over the sum.
///
/// The LayerNormalization gets the attribute `mpq_residual` and the Add's second operand as a fourth input; the sum
/// is no longer a value of the graph. It fed a float-only op (LayerNormalization) and was no layer's output, so the
/// quantization policy never quantized it. Results are bit-identical. Exporters write the Add back with
/// `GraphOptimizer.unfuse`.
extension GraphOptimizer {
    static let residualKey = "mpq_residual"

    /// Fuses Adds into the LayerNormalizations that alone read them; returns how many were fused.
    func fuseResidualAdds(_ graph: inout Graph) throws -> Int {
        let links = ValueLinks(graph)
        var removeNodes = Set<Int>()
        var fused = 0
        for (index, norm) in graph.nodes.enumerated()
        where norm.opType == "LayerNormalization" && norm.domain.isEmpty && norm.inputs.count >= 2 && norm.inputs.count <= 3 {
            let sum = norm.inputs[0]
            guard !sum.isEmpty, let p = links.soleProducer(of: sum, readBy: index, excluding: removeNodes) else { continue }
            let add = graph.nodes[p]
            guard add.opType == "Add", add.domain.isEmpty, add.inputs.count == 2, add.outputs.count == 1,
                  add.inputs.allSatisfy({ !$0.isEmpty && graph.initializers[$0] == nil }) else { continue }
            var updated = norm
            updated.inputs[0] = add.inputs[0]
            if updated.inputs.count == 2 { updated.inputs.append("") }
            updated.inputs.append(add.inputs[1])
            updated.attributes[Self.residualKey] = .int(1)
            graph.nodes[index] = updated
            removeNodes.insert(p)
            fused += 1
        }
        graph.removeNodes(at: removeNodes)
        return fused
    }

    /// The inverse of residual fusion: the Add before each LayerNormalization that carries one.
    static func unfuseResidualAdds(_ input: Graph) -> Graph {
        var graph = input
        var names = FreshNames(graph)
        var nodes: [Node] = []
        for var node in graph.nodes {
            if node.opType == "LayerNormalization", node.domain.isEmpty, node.attributes[residualKey] != nil, node.inputs.count == 4 {
                let base = node.name.isEmpty ? node.outputs[0] : node.name
                let sum = names.fresh(base + "_residual_sum")
                nodes.append(Node(name: names.fresh(base + "_residual"), opType: "Add", inputs: [node.inputs[0], node.inputs[3]],
                                  outputs: [sum]))
                node.inputs = Array(node.inputs[0..<3])
                node.inputs[0] = sum
                if node.inputs[2].isEmpty { node.inputs.removeLast() }
                node.attributes[residualKey] = nil
            }
            nodes.append(node)
        }
        graph.nodes = nodes
        return graph
    }
}

import MPQGraph

/// MatMul bias fusion: a linear layer exported as `MatMul(x, W)` then `Add(·, b)` (W and b constant, b one value
/// per output column) becomes one MatMul with b as a third input, added to each block of the product while it is
/// in cache (`GemmEpilogue`) instead of in a separate pass over the output (6 % of a MiniLM forward pass).
///
/// The MatMul takes the Add's output name, so the layer's output, which is what the quantization policy quantizes
/// ("after a following bias Add"), keeps its name; only the bias-free product vanishes, which no policy reads.
/// Results are bit-identical (the same float addition per element). A three-input MatMul is not standard ONNX:
/// exporters write the Add back with `GraphOptimizer.unfuse`.
extension GraphOptimizer {
    /// Fuses constant bias Adds into the MatMuls before them; returns how many were fused.
    func fuseMatMulBiases(_ graph: inout Graph) throws -> Int {
        let links = ValueLinks(graph)
        var removeNodes = Set<Int>()
        var fused = 0
        for (index, node) in graph.nodes.enumerated()
        where node.opType == "MatMul" && node.domain.isEmpty && node.inputs.count == 2 && node.outputs.count == 1 {
            let product = node.outputs[0]
            guard let weight = graph.initializers[node.inputs[1]], weight.elementType == .float32, weight.rank == 2,
                  graph.initializers[node.inputs[0]] == nil,
                  let reader = links.soleReader(of: product, excluding: removeNodes) else { continue }
            let add = graph.nodes[reader]
            guard add.opType == "Add", add.domain.isEmpty, add.inputs.count == 2, add.outputs.count == 1,
                  add.inputs[0] != add.inputs[1] else { continue }
            let biasName = add.inputs[0] == product ? add.inputs[1] : add.inputs[0]
            guard let bias = graph.initializers[biasName], bias.elementType == .float32, bias.rank == 1,
                  bias.count == weight.shape[1] else { continue }
            var updated = node
            updated.inputs.append(biasName)
            updated.outputs = add.outputs
            graph.nodes[index] = updated
            removeNodes.insert(reader)
            fused += 1
        }
        // The fused MatMul sits where the product was made; the Add's readers all come later.
        graph.removeNodes(at: removeNodes)
        return fused
    }

    /// The inverse of MatMul bias fusion: every three-input MatMul writes a fresh product again, and an Add of the
    /// bias writes the MatMul's former output.
    static func unfuseMatMulBiases(_ input: Graph) -> Graph {
        var graph = input
        var names = FreshNames(graph)
        var nodes: [Node] = []
        for var node in graph.nodes {
            guard node.opType == "MatMul", node.domain.isEmpty, node.inputs.count == 3, let output = node.outputs.first else {
                nodes.append(node)
                continue
            }
            let bias = node.inputs.removeLast()
            let product = names.fresh(output + "_product")
            node.outputs[0] = product
            nodes.append(node)
            let base = node.name.isEmpty ? output : node.name
            nodes.append(Node(name: names.fresh(base + "_bias"), opType: "Add", inputs: [product, bias], outputs: [output]))
        }
        graph.nodes = nodes
        return graph
    }
}

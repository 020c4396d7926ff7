import MPQGraph

/// MatMul transpose fusion: a Transpose whose only reader is a MatMul operand is read by the MatMul as a strided
/// view (`MatMulOperand`) instead of being copied: attention's Q, Kᵀ and V per head come straight from the
/// [batch, tokens, heads, width] projections (three copies of each per layer in BERT-style exports).
///
/// The MatMul gets the permutation as `mpq_perm_a` / `mpq_perm_b` and reads the Transpose's input. The transposed
/// copy was never quantized (data movement reuses its source's quantizer), so the quantization policy is unchanged.
/// Results are bit-identical. Exporters write the Transpose back with `GraphOptimizer.unfuse`.
extension GraphOptimizer {
    static let matMulPermAKey = "mpq_perm_a"
    static let matMulPermBKey = "mpq_perm_b"

    /// Fuses Transposes into the MatMul operands that read them; returns how many were fused.
    func fuseMatMulTransposes(_ graph: inout Graph) throws -> Int {
        let links = ValueLinks(graph)
        var removeNodes = Set<Int>()
        var fused = 0
        for (index, node) in graph.nodes.enumerated() where node.opType == "MatMul" && node.domain.isEmpty && node.inputs.count >= 2 {
            var updated = node
            for (k, key) in [(0, Self.matMulPermAKey), (1, Self.matMulPermBKey)] {
                let value = node.inputs[k]
                guard let t = links.soleProducer(of: value, readBy: index, excluding: removeNodes) else { continue }
                let transpose = graph.nodes[t]
                guard transpose.opType == "Transpose", transpose.domain.isEmpty, transpose.inputs.count == 1,
                      let source = transpose.inputs.first, !source.isEmpty, graph.initializers[source] == nil,
                      let perm = try transpose.ints("perm"), perm.count >= 2 else { continue }
                updated.inputs[k] = source
                updated.attributes[key] = .ints(perm)
                removeNodes.insert(t)
                fused += 1
            }
            graph.nodes[index] = updated
        }
        graph.removeNodes(at: removeNodes)
        return fused
    }

    /// The inverse of MatMul transpose fusion: a Transpose node before each operand that carries a permutation.
    static func unfuseMatMulTransposes(_ input: Graph) -> Graph {
        var graph = input
        var names = FreshNames(graph)
        var nodes: [Node] = []
        for var node in graph.nodes {
            if node.opType == "MatMul", node.domain.isEmpty {
                for (k, key) in [(0, matMulPermAKey), (1, matMulPermBKey)] {
                    guard case .ints(let perm)? = node.attributes[key] else { continue }
                    let base = node.name.isEmpty ? node.outputs[0] : node.name
                    let transposed = names.fresh(node.inputs[k] + "_transposed")
                    nodes.append(Node(name: names.fresh(base + "_transpose_" + (k == 0 ? "a" : "b")), opType: "Transpose",
                                      inputs: [node.inputs[k]], outputs: [transposed], attributes: ["perm": .ints(perm)]))
                    node.inputs[k] = transposed
                    node.attributes[key] = nil
                }
            }
            nodes.append(node)
        }
        graph.nodes = nodes
        return graph
    }
}

import MPQGraph

/// Softmax input fusion: attention's `Softmax(x · s + mask)` (or `x / s`, or only one of the two) becomes one
/// Softmax node that scales and masks each row while it is in cache, instead of three passes over the
/// batch × heads × tokens² scores.
///
/// The Softmax keeps its op type and domain (so the quantization policy still sees a float-only Softmax reading
/// the attention scores) and gets
/// - `mpq_input_scale` (float) and `mpq_input_scale_op` ("Mul" or "Div") for a scalar constant scale, and
/// - the mask as a second input, added after the scale.
/// Results are bit-identical to the unfused nodes (the same float operations in the same order). The scaled and
/// masked scores are no longer values of the graph; the policy never quantizes them (they feed a float-only op).
/// Exporters write the standard nodes back with `GraphOptimizer.unfuse`.
extension GraphOptimizer {
    static let softmaxScaleKey = "mpq_input_scale"
    static let softmaxScaleOpKey = "mpq_input_scale_op"

    /// Fuses a preceding scale and mask Add into Softmax nodes; returns how many Softmax nodes absorbed something.
    func fuseSoftmaxInputs(_ graph: inout Graph) throws -> Int {
        let links = ValueLinks(graph)
        var removeNodes = Set<Int>()
        var fused = 0
        /// The producer of `value` when `value` is internal and read only by `reader`.
        func soleProducer(_ value: String, reader: Int) -> (Int, Node)? {
            guard let p = links.soleProducer(of: value, readBy: reader, excluding: removeNodes) else { return nil }
            let node = graph.nodes[p]
            return node.domain.isEmpty && node.outputs.count == 1 && node.inputs.count == 2 ? (p, node) : nil
        }
        /// A scaling node: Mul by, or Div by, a float scalar constant (and what it scales).
        func scaling(_ node: Node) -> (input: String, scale: Float)? {
            func scalar(_ name: String) -> Float? {
                guard let t = graph.initializers[name], t.elementType == .float32, t.count == 1 else { return nil }
                return t.asFloats.first
            }
            switch node.opType {
            case "Div": return scalar(node.inputs[1]).map { (node.inputs[0], $0) }
            case "Mul":
                if let s = scalar(node.inputs[1]), graph.initializers[node.inputs[0]] == nil { return (node.inputs[0], s) }
                if let s = scalar(node.inputs[0]), graph.initializers[node.inputs[1]] == nil { return (node.inputs[1], s) }
                return nil
            default: return nil
            }
        }
        for (softmaxIndex, softmax) in graph.nodes.enumerated()
        where softmax.opType == "Softmax" && softmax.domain.isEmpty && softmax.inputs.count == 1 && softmax.outputs.count == 1 {
            guard let (pIndex, p) = soleProducer(softmax.inputs[0], reader: softmaxIndex) else { continue }
            var updated = softmax
            var absorbed = [pIndex]
            var scaleNode: Node? = p
            if p.opType == "Add" {
                // Scale under the Add: Add(Mul(x, s), mask) or Add(mask, Mul(x, s)).
                let scaled = p.inputs.indices.compactMap { k in
                    soleProducer(p.inputs[k], reader: pIndex).flatMap { scaling($0.1) != nil ? (k, $0.0, $0.1) : nil }
                }.first
                // Without a scale, the scores are the operand a MatMul produced (else the first).
                let fromMatMul = p.inputs.firstIndex { links.producers[$0].map { graph.nodes[$0].opType == "MatMul" } ?? false }
                let maskSide = scaled.map { 1 - $0.0 } ?? fromMatMul.map { 1 - $0 } ?? 1
                guard !p.inputs[maskSide].isEmpty, p.inputs[0] != p.inputs[1] else { continue }
                updated.inputs = [p.inputs[1 - maskSide], p.inputs[maskSide]]
                scaleNode = scaled?.2
                if let s = scaled { absorbed.append(s.1) }
            }
            if let node = scaleNode, let (input, scale) = scaling(node) {
                updated.inputs[0] = input
                updated.attributes[Self.softmaxScaleKey] = .float(scale)
                updated.attributes[Self.softmaxScaleOpKey] = .string(node.opType)
            } else if p.opType != "Add" {
                continue
            }
            graph.nodes[softmaxIndex] = updated
            removeNodes.formUnion(absorbed)
            fused += 1
        }
        graph.removeNodes(at: removeNodes)
        return fused
    }

    /// The inverse of Softmax input fusion: the scale (Mul or Div by a new scalar initializer) and the mask Add
    /// before a standard one-input Softmax.
    static func unfuseSoftmaxInputs(_ input: Graph) -> Graph {
        var graph = input
        var names = FreshNames(graph)
        var nodes: [Node] = []
        for var node in graph.nodes {
            let scale = node.attributes[softmaxScaleKey]
            guard node.opType == "Softmax", node.domain.isEmpty, scale != nil || node.inputs.count > 1 else {
                nodes.append(node)
                continue
            }
            let base = node.name.isEmpty ? node.outputs[0] : node.name
            var scores = node.inputs[0]
            if case .float(let s)? = scale {
                let constant = names.fresh(base + "_scale")
                graph.initializers[constant] = Tensor.scalar(s)
                let scaled = names.fresh(base + "_scaled_input")
                let op = node.attributes[softmaxScaleOpKey] == .string("Div") ? "Div" : "Mul"
                nodes.append(Node(name: names.fresh(base + "/scale"), opType: op, inputs: [scores, constant], outputs: [scaled]))
                scores = scaled
            }
            if node.inputs.count > 1, !node.inputs[1].isEmpty {
                let masked = names.fresh(base + "_masked_input")
                nodes.append(Node(name: names.fresh(base + "/mask"), opType: "Add", inputs: [scores, node.inputs[1]], outputs: [masked]))
                scores = masked
            }
            node.inputs = [scores]
            node.attributes[softmaxScaleKey] = nil
            node.attributes[softmaxScaleOpKey] = nil
            nodes.append(node)
        }
        graph.nodes = nodes
        return graph
    }
}

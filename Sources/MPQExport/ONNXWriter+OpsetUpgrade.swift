import MPQGraph

extension ONNXWriter {
    /// Operators whose attribute became an input in a default-domain opset, from opset 11 on: the
    /// version, the attribute that moved and its new input position. `upgrade(_:to:)` rewrites them.
    static let attributesToInputs: [String: (version: Int, attribute: String, input: Int)] = [
        "ReduceSum": (13, "axes", 1), "Squeeze": (13, "axes", 1), "Unsqueeze": (13, "axes", 1), "Split": (13, "split", 1),
        "ReduceMean": (18, "axes", 1), "ReduceMax": (18, "axes", 1), "ReduceMin": (18, "axes", 1), "ReduceProd": (18, "axes", 1),
        "ReduceL1": (18, "axes", 1), "ReduceL2": (18, "axes", 1), "ReduceLogSum": (18, "axes", 1),
        "ReduceLogSumExp": (18, "axes", 1), "ReduceSumSquare": (18, "axes", 1),
    ]

    /// The graph with every node whose signature changes between its opset and `opset` rewritten in
    /// the later form: an `axes` (or Split's `split`) attribute becomes an int64 initializer input, and
    /// a Split from before opset 18 without split sizes gets `num_outputs` (required from 18 on).
    ///
    /// Changes of meaning that are not a moved attribute (GroupNormalization's per-channel scale at 21,
    /// and the opset ≤ 11 changes of Clip, Pad, Resize, Upsample) are refused
    /// (`ExportError.opsetUpgrade`); mpq imports opset 11 and later only.
    public static func upgrade(_ graph: Graph, to opset: Int) throws -> Graph {
        let from = graph.opsetVersion
        guard opset > from else { return graph }
        var result = graph
        var used = Set(graph.initializers.keys).union(graph.nodes.flatMap(\.outputs)).union(graph.inputs.map(\.name))
        var refused: Set<String> = []
        for (i, node) in graph.nodes.enumerated() where node.domain.isEmpty {
            let crossed = (signatureChanges[node.opType] ?? []).filter { $0 > from && $0 <= opset }
            guard !crossed.isEmpty else { continue }
            var updated = node
            var handled = Set<Int>()
            if let move = attributesToInputs[node.opType], crossed.contains(move.version) {
                handled.insert(move.version)
                if let value = updated.attributes.removeValue(forKey: move.attribute) {
                    guard case .ints(let values) = value else {
                        throw ExportError.unsupported("node '\(node.displayName)': attribute '\(move.attribute)' is not a list of ints")
                    }
                    var name = "\(node.displayName)_\(move.attribute)"
                    while used.contains(name) { name += "_" }
                    used.insert(name)
                    result.initializers[name] = Tensor(shape: [values.count], int64s: values.map(Int64.init))
                    while updated.inputs.count < move.input { updated.inputs.append("") }
                    if updated.inputs.count == move.input { updated.inputs.append(name) } else { updated.inputs[move.input] = name }
                }
            }
            if node.opType == "Split", crossed.contains(18) {
                handled.insert(18)
                if updated.inputs.count < 2 || updated.inputs[1].isEmpty { updated.attributes["num_outputs"] = .int(updated.outputs.count) }
            }
            if !Set(crossed).isSubset(of: handled) { refused.insert(node.opType) }
            result.nodes[i] = updated
        }
        if !refused.isEmpty { throw ExportError.opsetUpgrade(from: from, to: opset, operators: refused.sorted()) }
        result.opsetVersion = opset
        return result
    }
}

import MPQGraph

/// Pad fusion: a zero-valued constant-mode Pad of the spatial axes whose only reader is a Conv
/// becomes part of that Conv's `pads` attribute (EfficientNet's TF-style "same" padding exports
/// one Pad before every strided convolution: 22 Pads and ~20 % of its forward pass).
///
/// The result is the same up to float rounding (the convolution reads the same zeros; bit-identical
/// on the hand-written paths, while oneDNN may sum a padded window in another order) and the fused
/// node is a standard ONNX Conv, so exporters need nothing special. The padded tensor is no longer a value
/// of the graph; quantization hooks on the Conv's input now see the unpadded tensor, whose range
/// is the same apart from the zeros.
extension GraphOptimizer {
    /// Fuses Pads into the Convs that read them; returns how many were fused.
    func fusePads(_ graph: inout Graph) throws -> Int {
        let consumers = graph.consumers()
        let producers = graph.producers()
        let graphOutputs = Set(graph.outputs.map(\.name))
        var removeNodes = Set<Int>()
        var fused = 0
        for (convIndex, conv) in graph.nodes.enumerated() where conv.opType == "Conv" && conv.domain.isEmpty {
            guard let source = conv.inputs.first, !source.isEmpty,
                  let padIndex = producers[source], !removeNodes.contains(padIndex),
                  consumers[source]?.count == 1, !graphOutputs.contains(source) else { continue }
            let pad = graph.nodes[padIndex]
            guard pad.opType == "Pad", pad.domain.isEmpty, pad.outputs.count == 1,
                  let padInput = pad.inputs.first, !padInput.isEmpty,
                  let pads = try zeroPadAmounts(pad, graph) else { continue }
            let rank = pads.count / 2
            let spatial = rank - 2
            guard spatial >= 1, pads[0] == 0, pads[1] == 0, pads[rank] == 0, pads[rank + 1] == 0 else { continue }
            let autoPad = try conv.string("auto_pad", default: "NOTSET")
            guard autoPad == "NOTSET" || autoPad == "VALID" else { continue }
            var convPads = try conv.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
            guard convPads.count == 2 * spatial else { continue }
            for i in 0..<spatial {
                convPads[i] += pads[2 + i]
                convPads[spatial + i] += pads[rank + 2 + i]
            }
            var updated = conv
            updated.inputs[0] = padInput
            updated.attributes["pads"] = .ints(convPads)
            updated.attributes["auto_pad"] = nil
            graph.nodes[convIndex] = updated
            removeNodes.insert(padIndex)
            fused += 1
        }
        graph.removeNodes(at: removeNodes)
        return fused
    }

    /// The pads (all begins, then all ends, one pair per axis) of a constant-mode Pad that pads with
    /// zeros and crops nothing, or nil when the Pad is not such a node or its inputs are not constant.
    private func zeroPadAmounts(_ pad: Node, _ graph: Graph) throws -> [Int]? {
        guard try pad.string("mode", default: "constant") == "constant" else { return nil }
        let pads: [Int]
        if graph.opsetVersion < 11 {
            guard try pad.float("value", default: 0) == 0, let p = try pad.ints("pads") else { return nil }
            pads = p
        } else {
            // Explicit axes (opset 18) are rare in exports; leave such Pads alone.
            guard pad.inputs.count >= 2, pad.inputs.count <= 3 || pad.inputs[3].isEmpty,
                  let p = graph.initializers[pad.inputs[1]], p.elementType == .int64 else { return nil }
            if pad.inputs.count >= 3, !pad.inputs[2].isEmpty {
                guard let v = graph.initializers[pad.inputs[2]], v.count == 1, v.asFloats.first == 0 else { return nil }
            }
            pads = p.asInt64s.map { Int($0) }
        }
        guard pads.count % 2 == 0, pads.allSatisfy({ $0 >= 0 }) else { return nil }
        return pads
    }
}

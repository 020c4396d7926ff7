import MPQGraph

extension GraphOptimizer {
    /// Folds inference-mode BatchNormalization into a preceding Conv or Gemm with constant weights,
    /// when the BN is that layer's only reader.
    func foldBatchNorms(_ graph: inout Graph) throws -> Int {
        let consumers = graph.consumers()
        let producers = graph.producers()
        let graphOutputs = Set(graph.outputs.map(\.name))
        var removeNodes = Set<Int>()
        var folded = 0
        for (bnIndex, bn) in graph.nodes.enumerated() where bn.opType == "BatchNormalization" && bn.domain.isEmpty {
            guard bn.inputs.count == 5, bn.outputs.dropFirst().allSatisfy(\.isEmpty),
                  let layerIndex = producers[bn.inputs[0]],
                  consumers[bn.inputs[0]]?.count == 1, !graphOutputs.contains(bn.inputs[0]),
                  let scale = graph.initializers[bn.inputs[1]]?.floats,
                  let shift = graph.initializers[bn.inputs[2]]?.floats,
                  let mean = graph.initializers[bn.inputs[3]]?.floats,
                  let variance = graph.initializers[bn.inputs[4]]?.floats else { continue }
            let epsilon = try bn.float("epsilon", default: 1e-5)
            let channels = scale.count
            guard shift.count == channels, mean.count == channels, variance.count == channels else { continue }
            let factor = (0..<channels).map { scale[$0] / (variance[$0] + epsilon).squareRoot() }
            var layer = graph.nodes[layerIndex]
            let ok: Bool
            switch layer.opType {
            case "Conv": ok = foldIntoConv(&layer, &graph, factor: factor, mean: mean, shift: shift)
            case "Gemm": ok = try foldIntoGemm(&layer, &graph, factor: factor, mean: mean, shift: shift)
            default: ok = false
            }
            guard ok else { continue }
            layer.outputs[0] = bn.outputs[0]
            graph.nodes[layerIndex] = layer
            removeNodes.insert(bnIndex)
            folded += 1
        }
        graph.removeNodes(at: removeNodes)
        return folded
    }

    /// W'[o] = W[o]·f[o], b'[o] = (b[o] − mean[o])·f[o] + shift[o].
    private func foldIntoConv(_ conv: inout Node, _ graph: inout Graph, factor: [Float], mean: [Float], shift: [Float]) -> Bool {
        guard conv.inputs.count >= 2, let weight = graph.initializers[conv.inputs[1]],
              var w = weight.floats, weight.shape.first == factor.count else { return false }
        var bias = [Float](repeating: 0, count: factor.count)
        if conv.inputs.count > 2, !conv.inputs[2].isEmpty {
            guard let b = graph.initializers[conv.inputs[2]]?.floats, b.count == factor.count else { return false }
            bias = b
        }
        let perChannel = w.count / factor.count
        for o in 0..<factor.count {
            for k in 0..<perChannel { w[o * perChannel + k] *= factor[o] }
            bias[o] = (bias[o] - mean[o]) * factor[o] + shift[o]
        }
        let weightName = uniqueName(conv.inputs[1] + "_bnfolded", graph)
        graph.initializers[weightName] = Tensor(shape: weight.shape, floats: w)
        let biasName = uniqueName(conv.name + "_bias_bnfolded", graph)
        graph.initializers[biasName] = Tensor(shape: [factor.count], floats: bias)
        conv.inputs = [conv.inputs[0], weightName, biasName]
        return true
    }

    /// Scales the output columns of B and folds C (a vector over N, or absent) into a new bias.
    private func foldIntoGemm(_ gemm: inout Node, _ graph: inout Graph, factor: [Float], mean: [Float], shift: [Float]) throws -> Bool {
        guard gemm.inputs.count >= 2, let bTensor = graph.initializers[gemm.inputs[1]],
              var b = bTensor.floats, bTensor.rank == 2 else { return false }
        let transB = try gemm.int("transB", default: 0) != 0
        let alpha = try gemm.float("alpha", default: 1)
        let beta = try gemm.float("beta", default: 1)
        let n = factor.count
        let (rows, cols) = (bTensor.shape[0], bTensor.shape[1])
        guard (transB ? rows : cols) == n else { return false }
        var c = [Float](repeating: 0, count: n)
        if gemm.inputs.count > 2, !gemm.inputs[2].isEmpty {
            guard let cTensor = graph.initializers[gemm.inputs[2]], let cv = cTensor.floats else { return false }
            if cv.count == 1 { c = [Float](repeating: cv[0] * beta, count: n) }
            else if cv.count == n && (cTensor.rank == 1 || cTensor.shape.first == 1) { c = cv.map { $0 * beta } }
            else { return false }
        }
        for r in 0..<rows {
            for k in 0..<cols {
                b[r * cols + k] *= factor[transB ? r : k] * alpha
            }
        }
        let bias = (0..<n).map { (c[$0] - mean[$0]) * factor[$0] + shift[$0] }
        let weightName = uniqueName(gemm.inputs[1] + "_bnfolded", graph)
        graph.initializers[weightName] = Tensor(shape: bTensor.shape, floats: b)
        let biasName = uniqueName(gemm.name + "_bias_bnfolded", graph)
        graph.initializers[biasName] = Tensor(shape: [n], floats: bias)
        gemm.inputs = [gemm.inputs[0], weightName, biasName]
        gemm.attributes["alpha"] = .float(1)
        gemm.attributes["beta"] = .float(1)
        return true
    }

    private func uniqueName(_ base: String, _ graph: Graph) -> String {
        var name = base
        var i = 1
        let used = Set(graph.nodes.flatMap(\.outputs))
        while graph.initializers[name] != nil || used.contains(name) { name = "\(base)_\(i)"; i += 1 }
        return name
    }
}

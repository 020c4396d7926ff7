import MPQExecutor
import MPQGraph
import MPQQuantization

extension StepSearch {
    /// Steps for every target from its own values: Lp clipping at norm `p`, or min-max when p is nil.
    ///
    /// Weights use the whole weight tensor. Activations use the first calibration batch with every
    /// upstream quantizer already applied (the `fixed` ones, the weights, the activations before it,
    /// and the int32 biases they determine), visited in graph order (LAPQ's layer-wise step).
    func layerwise(_ targets: [QuantizerTarget], p: Double?, probe: inout CalibrationSession,
                   fixed: [TensorQuantizer], biases: BiasQuantization) throws -> [TensorQuantizer] {
        let graph = probe.graph
        var order: [String: Int] = [:]
        for input in graph.inputs { order[input.name] = -1 }
        for (i, node) in graph.nodes.enumerated() { for o in node.outputs { order[o] = i } }

        var result = [TensorQuantizer?](repeating: nil, count: targets.count)
        for (i, t) in targets.enumerated() where t.role == .weight {
            guard let value = graph.initializers[t.name], let values = value.floats else {
                throw StepSearchError.notAConstant(t.name)
            }
            let key = "\(t.name)|\(t.grid)|\(String(describing: t.axis))|\(String(describing: p))|\(options.lpMethod)"
            let base = try weightSteps.parameters(for: key) {
                try parameters(values, shape: value.shape, axis: t.axis, grid: t.grid, p: p)
            }
            result[i] = TensorQuantizer(name: t.name, role: .weight, axis: t.axis, grid: t.grid, base: base, layer: t.layer)
        }
        let activations = targets.indices.filter { targets[$0].role == .activation }
            .sorted { (order[targets[$0].name] ?? -1) < (order[targets[$1].name] ?? -1) }
        var state: CalibrationSession.State? = nil
        for i in activations {
            let t = targets[i]
            // Bring the probe up to date with every quantizer upstream of this tensor, running the network only
            // as far as this tensor: the activations are visited in graph order, so one pass in all.
            let position = order[t.name] ?? -1
            let settings = Self.settings(fixed + result.compactMap { $0 }, biases: biases)
            let upstream = settings.filter { name, _ in graph.initializers[name] != nil || (order[name] ?? -1) < position }
            state = try probe.evaluate(upstream, from: state, through: [t.name])
            guard let value = probe.unhookedValue(t.name, in: state!), let values = value.floats else {
                throw StepSearchError.missingActivation(t.name)
            }
            result[i] = TensorQuantizer(name: t.name, role: .activation, axis: nil, grid: t.grid,
                                        base: try parameters(values, shape: value.shape, axis: nil, grid: t.grid, p: p), layer: t.layer)
        }
        return result.map { $0! }
    }

    private func parameters(_ values: [Float], shape: [Int], axis: Int?, grid: QuantizationGrid, p: Double?) throws -> QuantizerParameters {
        if let axis {
            guard let p else { return try LpClipping.minMaxPerChannel(values, shape: shape, axis: axis, grid: grid) }
            return try LpClipping(p: p, grid: grid, method: options.lpMethod).perChannel(values, shape: shape, axis: axis).parameters
        }
        guard let p else { return try LpClipping.minMax(values, grid: grid) }
        return try LpClipping(p: p, grid: grid, method: options.lpMethod)(values).parameters
    }
}

/// Errors of the step search.
public enum StepSearchError: Error, CustomStringConvertible, Equatable {
    case notAConstant(String)
    case missingActivation(String)

    public var description: String {
        switch self {
        case .notAConstant(let name):
            return "weight '\(name)' is not a constant float tensor, so it cannot be quantized as a weight"
        case .missingActivation(let name):
            return "activation '\(name)' was not computed on the calibration data; is it downstream of the model inputs?"
        }
    }
}

import Foundation
import MPQExecutor
import MPQGraph
import MPQQuantization

/// Empirical bias correction for quantized weights: each layer's bias absorbs the expected output
/// shift E[(Ŵ − W)·x], so the weights stay on their grid (mean-shift correction folded into the bias).
public struct BiasCorrectionPlan: Sendable {
    struct Layer: Sendable {
        var weight: String
        var bias: String
        var layout: WeightLayout
        var inputMeans: [Float]
        var weightValue: Tensor
        var biasValue: [Float]
    }

    /// Layers by weight name.
    let layers: [String: Layer]

    /// Collects, for each quantized weight whose layer has a constant bias, the FP32 per-channel
    /// means of the layer's input over the calibration data.
    public init(graph: Graph, session: CalibrationSession, weights: [String]) throws {
        var layers: [String: Layer] = [:]
        let wanted = Set(weights)
        for node in graph.nodes {
            guard node.inputs.count >= 3, wanted.contains(node.inputs[1]), let layout = try Self.layout(node),
                  let weight = graph.initializers[node.inputs[1]], let bias = graph.initializers[node.inputs[2]]?.floats,
                  let input = session.referenceValue(node.inputs[0]) else { continue }
            // A Gemm bias is scaled by beta; correct only the usual beta = 1.
            if node.opType == "Gemm", try node.float("beta", default: 1) != 1 { continue }
            let means = try BiasCorrection.inputChannelMeans(input, layout: layout)
            layers[node.inputs[1]] = Layer(weight: node.inputs[1], bias: node.inputs[2], layout: layout,
                                           inputMeans: means, weightValue: weight, biasValue: bias)
        }
        self.layers = layers
    }

    /// Weight layout of a Conv or Gemm node (MatMul has no bias input to correct).
    static func layout(_ node: Node) throws -> WeightLayout? {
        switch node.opType {
        case "Conv": return .conv(groups: try node.int("group", default: 1))
        case "Gemm": return .gemm(transA: try node.int("transA", default: 0) != 0, transB: try node.int("transB", default: 0) != 0)
        default: return nil
        }
    }

    /// The bias tensor name and corrected-bias setting for a weight quantizer at `multiplier`, if its layer has a bias.
    ///
    /// The corrected bias is computed when the hook first runs: a joint search builds every quantizer's setting for
    /// each evaluation but re-runs only the changed ones. Should the correction fail, the bias stays as it is.
    public func setting(for quantizer: TensorQuantizer, multiplier: Double) -> (String, QuantizerSetting)? {
        guard let layer = layers[quantizer.name] else { return nil }
        let parameters = quantizer.parameters(multiplier: multiplier)
        let key = "bias-corrected|" + QuantizerSetting.keyPart(parameters.scales) + "|" + QuantizerSetting.keyPart(parameters.zeroPoints)
        let corrected = Memo { () -> Tensor? in
            guard let quantized = try? FakeQuantizer(parameters)(layer.weightValue),
                  let shift = try? BiasCorrection.outputShift(weight: layer.weightValue, quantized: quantized,
                                                              layout: layer.layout, inputMeans: layer.inputMeans),
                  let corrected = try? BiasCorrection.correctedBias(layer.biasValue, shift: shift) else { return nil }
            return Tensor(shape: [corrected.count], floats: corrected)
        }
        return (layer.bias, QuantizerSetting(key: key) { bias in corrected.value ?? bias })
    }
}

/// A value computed on first use and shared afterwards (a hook runs once per batch, with the same result).
final class Memo<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value?
    private let compute: () -> Value

    init(_ compute: @escaping () -> Value) { self.compute = compute }

    var value: Value {
        lock.withLock {
            if let stored { return stored }
            let computed = compute()
            stored = computed
            return computed
        }
    }
}

extension Graph {
    /// The graph with a zero bias added to every Conv and Gemm that has none, so bias correction
    /// has a tensor to adjust.
    public func withExplicitBiases() -> Graph {
        var graph = self
        for (i, node) in graph.nodes.enumerated() where node.opType == "Conv" || node.opType == "Gemm" {
            guard node.inputs.count >= 2, node.inputs.count < 3 || node.inputs[2].isEmpty,
                  let weight = graph.initializers[node.inputs[1]], weight.rank >= 2 else { continue }
            let channels: Int
            if node.opType == "Conv" {
                channels = weight.shape[0]
            } else {
                let transB = ((try? node.int("transB", default: 0)) ?? 0) != 0
                channels = transB ? weight.shape[0] : weight.shape[1]
            }
            var name = node.name + "_bias"
            while graph.initializers[name] != nil { name += "_" }
            graph.initializers[name] = Tensor.zeros([channels])
            var updated = node
            if updated.inputs.count < 3 { updated.inputs.append(name) } else { updated.inputs[2] = name }
            graph.nodes[i] = updated
        }
        return graph
    }
}

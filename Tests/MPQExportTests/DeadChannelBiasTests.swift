import Foundation
import MPQExecutor
import MPQExport
import MPQGraph
import MPQLAPQ
import MPQQuantization
import Testing

/// A dead weight channel (values ~1e-12, as batch-norm folding leaves them) with a large bias: its output is
/// the bias. Its tiny weight step would make the int32 bias grid overflow and clip the bias to about zero;
/// the weight step is raised until the bias fits, in simulation and export alike, and ONNX Runtime agrees.
@Test func deadChannelKeepsItsBiasOnTheInt32Grid() throws {
    guard Python.require(["onnxruntime", "onnx", "numpy"]) else { return }
    var ex = try Example("mobilenet-digits")
    let biases = BiasQuantization(graph: ex.graph)
    let link = try #require(biases.links.first { $0.outputAxis == 0 && $0.biasCount > 1 })
    var weight = try #require(ex.graph.initializers[link.weight]).asFloats
    let perChannel = weight.count / link.biasCount
    for i in 0..<perChannel { weight[i] *= 1e-12 }
    ex.graph.initializers[link.weight] = Tensor(shape: ex.graph.initializers[link.weight]!.shape, floats: weight)
    var bias = try #require(ex.graph.initializers[link.bias]).asFloats
    bias[0] = 5
    ex.graph.initializers[link.bias] = Tensor(shape: [bias.count], floats: bias)

    let policy = QuantizationPolicy(perChannelWeights: true, quantizeGraphOutputs: true)
    let quantizers = try ex.quantizers(QuantizationRecipe(bits: BitWidths(weight: 8, activation: 8), policy: policy).targets(in: ex.graph))
    let fixedBiases = BiasQuantization(graph: ex.graph)
    let settings = StepSearch.settings(quantizers, biases: fixedBiases)
    // The simulated bias keeps channel 0's value (the grid step is now about 2 · 5 / 2³¹).
    let hooked = settings[link.bias]!.transform(ex.graph.initializers[link.bias]!).asFloats
    #expect(abs(hooked[0] - 5) < 1e-6)
    let w = try #require(quantizers.first { $0.name == link.weight })
    let input = try #require(link.inputChain.lazy.compactMap { name in quantizers.first { $0.name == name } }.first)
    let fitted = fixedBiases.fittingInt32Biases([w.name: w.base, input.name: input.base])[w.name]!
    #expect(fitted.scales[0] > w.base.scales[0] && Array(fitted.scales.dropFirst()) == Array(w.base.scales.dropFirst()))

    var hooks = TensorHooks()
    for (n, s) in settings { hooks[n] = s.transform }
    let simulated = try Example.run(ex.graph, ex.validation, hooks: hooks)
    let dir = try temporaryDirectory("dead-channel")
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("model.onnx")
    try QDQExporter().model(graph: ex.graph, quantizers: quantizers).serializedData().write(to: url)
    let ort = try Python.onnxRuntime(model: url, inputName: ex.inputName, input: ex.validation, optimize: false, directory: dir)
    let step = try #require(quantizers.first { $0.name == ex.outputName }).base.scales[0]
    let maxError = zip(ort.asFloats, simulated.asFloats).map { abs($0 - $1) }.max()!
    let agreement = Double(zip(argmax(ort), argmax(simulated)).filter { $0 == $1 }.count) / Double(ort.shape[0])
    #expect(agreement >= 0.995)
    #expect(maxError <= step * 1.001, "max |ORT − mpq| \(maxError), output step \(step)")
}

import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQONNX
import Testing

/// The committed example models reproduce ONNX Runtime's validation outputs within 1e-4.
@Test(arguments: ["digits", "mobilenet-digits"])
func exampleModelMatchesONNXRuntime(_ example: String) throws {
    let dir = TestPaths.example(example)
    let model = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model.onnx"))
    let (graph, _) = try model.optimizedGraph()
    let data = try NumpyArray(contentsOf: dir.appendingPathComponent("val.npy"))
    let inputName = try #require(graph.inputs.first?.name)
    let input = try data.validated(against: graph.inputs[0])
    let reference = try NumpyArray(contentsOf: dir.appendingPathComponent("val_reference.npy")).tensor
    let runner = try BatchRunner(graph: graph, sampleShapes: [inputName: Array(input.shape.dropFirst())],
                                 sampleCount: input.shape[0], batchSize: 128)
    let outputs = try runner.run([inputName: input])
    let logits = try #require(outputs[graph.outputs[0].name])
    #expect(logits.shape == reference.shape)
    let error = relativeMaxError(logits, reference)
    #expect(error <= 1e-4, "relative max error \(error)")
}

/// Re-running from the activation cache after changing one hook gives the same outputs as a full run.
@Test func rerunFromCacheMatchesFullRun() throws {
    let dir = TestPaths.example("mobilenet-digits")
    let model = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model.onnx"))
    let (graph, _) = try model.optimizedGraph()
    let all = try NumpyArray(contentsOf: dir.appendingPathComponent("calib.npy")).tensor
    let batch = all.slice(axis0: 0..<16)
    let inputName = graph.inputs[0].name
    let plan = try ExecutionPlan(graph: graph, inputShapes: [inputName: batch.shape])

    // A crude rounding hook on one mid-graph weight and one activation.
    let convs = graph.nodes.filter { $0.opType == "Conv" }
    let weight = convs[convs.count / 2].inputs[1]
    let activation = convs[convs.count / 2].outputs[0]
    let round: TensorHooks.Transform = { t in Tensor(shape: t.shape, floats: t.asFloats.map { ($0 * 8).rounded() / 8 }) }
    let base = try plan.run([inputName: batch], retain: .all)
    let cache = try #require(base.cache)

    var hooks = TensorHooks()
    hooks[weight] = round
    let full = try plan.run([inputName: batch], hooks: hooks)
    let partial = try plan.rerun(from: cache, changed: [weight], hooks: hooks)
    let out = graph.outputs[0].name
    #expect(try #require(partial.outputs[out]) == (try #require(full.outputs[out])))
    #expect(full.outputs[out] != base.outputs[out])

    // Changing an activation hook re-runs only its consumers.
    hooks[activation] = round
    let full2 = try plan.run([inputName: batch], hooks: hooks)
    let partial2 = try plan.rerun(from: try #require(try plan.rerun(from: cache, changed: [weight], hooks: TensorHooks([weight: round]), retain: .all).cache),
                                  changed: [activation], hooks: hooks)
    #expect(partial2.outputs[out] == full2.outputs[out])
    let downstream = plan.downstreamNodes(of: [activation])
    #expect(downstream.count < graph.nodes.count)
    #expect(!downstream.contains(convs[0].displayName))
}

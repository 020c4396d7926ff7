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
    // Reruns are compared with retaining runs: a forward pass may keep activations blocked and round differently.
    let full = try plan.run([inputName: batch], hooks: hooks, retain: .all)
    let partial = try plan.rerun(from: cache, changed: [weight], hooks: hooks)
    let out = graph.outputs[0].name
    #expect(try #require(partial.outputs[out]) == (try #require(full.outputs[out])))
    #expect(full.outputs[out] != base.outputs[out])

    // Changing an activation hook re-runs only its consumers.
    hooks[activation] = round
    let full2 = try plan.run([inputName: batch], hooks: hooks, retain: .all)
    let partial2 = try plan.rerun(from: try #require(try plan.rerun(from: cache, changed: [weight], hooks: TensorHooks([weight: round]), retain: .all).cache),
                                  changed: [activation], hooks: hooks)
    #expect(partial2.outputs[out] == full2.outputs[out])
    let downstream = plan.downstreamNodes(of: [activation])
    #expect(downstream.count < graph.nodes.count)
    #expect(!downstream.contains(convs[0].displayName))
}

/// A re-run `through` a mid-graph activation computes that activation as a full run does, leaves what lies
/// after it stale, and a later re-run (through a later tensor, or complete) catches up exactly.
@Test func rerunThroughATensorStopsThereAndCatchesUpLater() throws {
    let dir = TestPaths.example("mobilenet-digits")
    let (graph, _) = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model.onnx")).optimizedGraph()
    let batch = try NumpyArray(contentsOf: dir.appendingPathComponent("calib.npy")).tensor.slice(axis0: 0..<8)
    let inputName = graph.inputs[0].name
    let plan = try ExecutionPlan(graph: graph, inputShapes: [inputName: batch.shape])
    let convs = graph.nodes.filter { $0.opType == "Conv" }
    let early = convs[2], late = convs[convs.count - 3]
    let round: TensorHooks.Transform = { t in Tensor(shape: t.shape, floats: t.asFloats.map { ($0 * 8).rounded() / 8 }) }
    let cache = try #require(try plan.run([inputName: batch], retain: .all).cache)
    var hooks = TensorHooks([early.inputs[1]: round])
    let full = try #require(try plan.run([inputName: batch], hooks: hooks, retain: .all).cache)

    // Through the early layer's output: it is exact, the graph output is left stale (the cached FP32 one).
    let first = try #require(try plan.rerun(from: cache, changed: [early.inputs[1]], hooks: hooks, retain: .all,
                                            through: [early.outputs[0]]).cache)
    #expect(!first.isComplete)
    #expect(first.value(named: early.outputs[0]) == full.value(named: early.outputs[0]))
    #expect(first.value(named: late.outputs[0]) == cache.value(named: late.outputs[0]))

    // A new hook further down, through the late layer: everything up to it catches up.
    hooks[late.inputs[1]] = round
    let full2 = try #require(try plan.run([inputName: batch], hooks: hooks, retain: .all).cache)
    let second = try #require(try plan.rerun(from: first, changed: [late.inputs[1]], hooks: hooks, retain: .all,
                                             through: [late.outputs[0]]).cache)
    #expect(second.value(named: late.outputs[0]) == full2.value(named: late.outputs[0]))

    // With nothing changed, a complete re-run runs what is still stale: the outputs equal a full run's.
    let out = graph.outputs[0].name
    let complete = try plan.rerun(from: second, changed: [], hooks: hooks, retain: .all)
    #expect(complete.cache?.isComplete == true)
    #expect(complete.outputs[out] == (try plan.run([inputName: batch], hooks: hooks, retain: .all).outputs[out]))
}

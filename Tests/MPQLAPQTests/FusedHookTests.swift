@testable import MPQExecutor
import MPQGraph
import MPQKernels
import MPQLAPQ
import MPQQuantization
import Testing

/// Per-tensor activation quantizers come with a value-by-value form that convolutions apply as they write; runs with it
/// give the same bits as runs that quantize each whole tensor afterwards: full runs, cached re-runs after a change,
/// and a checkpointed plan (which keeps raw values, so it does not fuse).
@Test func fusedActivationHooksGiveTheSameValues() throws {
    let data = try ExampleData("mobilenet-digits", samples: 12)
    let session = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 12)
    let targets = try QuantizationRecipe(bits: BitWidths(weight: 4, activation: 4)).targets(in: data.graph)
    let quantizers = try BiasCorrectionFixture.minMaxQuantizers(targets, session: session)
    let settings = StepSearch.settings(quantizers, biases: BiasQuantization(graph: data.graph))
    let fused = TensorHooks(settings)
    let activations = quantizers.filter { $0.role == .activation }.map(\.name)
    #expect(!activations.isEmpty && activations.allSatisfy { fused.elementwise[$0] != nil })
    #expect(quantizers.filter { $0.role == .weight && $0.axis != nil }.allSatisfy { fused.elementwise[$0.name] == nil })
    var separate = fused
    separate.elementwise = [:]

    let plan = try ExecutionPlan(graph: data.graph, inputShapes: data.inputs.mapValues(\.shape))
    let a = try #require(plan.run(data.inputs, hooks: fused, retain: .all).cache)
    let b = try #require(plan.run(data.inputs, hooks: separate, retain: .all).cache)
    #expect(a.values == b.values)
    #expect(a.values != (try #require(plan.run(data.inputs, retain: .all).cache)).values)

    // One activation's quantizer changed: its producer runs again with the new hook.
    let name = activations[activations.count / 2]
    var changed = quantizers
    let k = try #require(changed.firstIndex { $0.name == name })
    changed[k].base.scales = changed[k].base.scales.map { $0 * 1.3 }
    var changedFused = TensorHooks(StepSearch.settings(changed, biases: BiasQuantization(graph: data.graph)))
    var changedSeparate = changedFused
    changedSeparate.elementwise = [:]
    let rerunFused = try plan.rerun(from: a, changed: [name], hooks: changedFused, retain: .all)
    let rerunSeparate = try plan.rerun(from: b, changed: [name], hooks: changedSeparate, retain: .all)
    #expect(rerunFused.cache?.values == rerunSeparate.cache?.values)
    #expect(rerunFused.outputs != (try plan.run(data.inputs, hooks: fused).outputs))

    // Removing a hook removes its fused form too.
    changedFused[name] = nil
    #expect(changedFused.elementwise[name] == nil && changedFused.outOfPlace[name] == nil)
    changedSeparate[name] = nil
    #expect(try plan.run(data.inputs, hooks: changedFused).outputs == (try plan.run(data.inputs, hooks: changedSeparate).outputs))

    // A checkpointed plan keeps raw values beside hooked ones, so it does not fuse; still the same values.
    let checkpointed = plan.checkpointing(every: 3)
    #expect(checkpointed.isCheckpointed)
    #expect(try checkpointed.run(data.inputs, hooks: fused, retain: .all).outputs == (try plan.run(data.inputs, hooks: separate).outputs))
}

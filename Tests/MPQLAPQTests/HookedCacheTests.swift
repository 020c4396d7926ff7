@testable import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQQuantization
import Testing

/// An unbounded cache keeps only the hooked form of a hooked activation. Re-runs from it equal full runs whether a
/// change hits one activation (its producer runs again), every hook at once (each is applied when read) or removes a
/// hook (the raw value comes back from the producer).
@Test func unboundedCacheKeepsHookedActivationsOnly() throws {
    let data = try ExampleData("mobilenet-digits", samples: 4)
    let plan = try ExecutionPlan(graph: data.graph, inputShapes: data.inputs.mapValues(\.shape))
    let activations = data.graph.nodes.map { $0.outputs[0] }
    let coarse = roundingHooks(4, activations)
    let hooked = try #require(plan.run(data.inputs, hooks: coarse, retain: .all).cache)
    for name in activations {
        let s = try #require(hooked.slots[name])
        #expect(hooked.values[s] != nil && hooked.unhooked[s] == nil, "\(name)")
        #expect(hooked.unhookedValue(named: name) == nil, "\(name)")
    }
    // FP32 → every hook at once.
    let reference = try #require(plan.run(data.inputs, retain: .all).cache)
    let all = try plan.rerun(from: reference, changed: Set(activations), hooks: coarse, retain: .all)
    #expect(all.outputs == (try plan.run(data.inputs, hooks: coarse).outputs))
    let allCache = try #require(all.cache)
    for name in activations { #expect(allCache.value(named: name) == hooked.value(named: name), "\(name)") }
    for name in [activations[0], activations[activations.count / 2], activations[activations.count - 3]] {
        // One hook changed, then removed.
        var finer = coarse
        finer[name] = roundingHooks(16, [name])[name]
        let changed = try plan.rerun(from: allCache, changed: [name], hooks: finer, retain: .all)
        #expect(changed.outputs == (try plan.run(data.inputs, hooks: finer).outputs), "\(name)")
        var without = coarse
        without[name] = nil
        let removed = try plan.rerun(from: try #require(changed.cache), changed: [name], hooks: without, retain: .all)
        #expect(removed.outputs == (try plan.run(data.inputs, hooks: without).outputs), "\(name)")
        #expect(removed.cache?.unhookedValue(named: name) == (try plan.run(data.inputs, hooks: without, retain: .all)).cache?.value(named: name))
    }
}

/// A session answers a hooked activation's raw value (the input its quantizer sees) by running the producer without
/// that hook: the same tensor as a run without it, while the other hooks stay applied.
@Test func sessionRecomputesTheRawFormOfHookedActivations() throws {
    let data = try ExampleData("mobilenet-digits", samples: 24)
    var session = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 16)
    let targets = try QuantizationRecipe(bits: BitWidths(weight: 4, activation: 4)).targets(in: data.graph)
    let quantizers = try BiasCorrectionFixture.minMaxQuantizers(targets, session: session)
    let settings = StepSearch.settings(quantizers, biases: BiasQuantization(graph: data.graph))
    let state = try session.evaluate(settings)
    let activation = try #require(targets.last { $0.role == .activation }).name
    let output = data.graph.outputs[0].name
    #expect(activation != output)
    var without = settings
    without[activation] = nil
    let expected = try session.evaluate(without)
    let raw = try #require(session.unhookedValue(activation, in: state))
    #expect(raw == session.unhookedValue(activation, in: expected))
    // The hook changes the value, so the hooked form would not have passed.
    let hook = try #require(TensorHooks(settings)[activation])
    #expect(hook(raw) != raw)
}

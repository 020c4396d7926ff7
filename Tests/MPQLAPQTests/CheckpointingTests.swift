import Foundation
@testable import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQQuantization
import Testing

/// A session over a memory budget keeps only some activations and recomputes the rest, with results
/// identical to a session that keeps everything.
@Test func checkpointedSessionGivesTheSameSearch() throws {
    let data = try ExampleData("mobilenet-digits", samples: 48)
    let targets = try QuantizationRecipe(bits: BitWidths(weight: 4, activation: 8)).targets(in: data.graph)
    let everything = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 16)
    let bytes = everything.plan.activationBytes * everything.batches.count
    var bounded = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 16, activationBudget: bytes / 4)
    #expect(bounded.plan.isCheckpointed && !everything.plan.isCheckpointed)
    #expect(bounded.plan.checkpointStride(batches: everything.batches.count, budget: bytes / 4) == 4)

    let output = data.graph.outputs[0].name
    let labels = data.labels
    var options = StepSearch.Options()
    options.maxEvaluations = 24
    let search = StepSearch(options: options) { outputs in
        (try? CalibrationLoss.crossEntropy(logits: outputs[output]!, labels: labels)) ?? .infinity
    }
    func run(_ session: inout CalibrationSession) throws -> StepSearchResult {
        var probe = try CalibrationSession(graph: data.graph, inputs: session.batches[0], batchSize: 16,
                                           activationBudget: session.plan.isCheckpointed ? 1 : .max)
        let correction = try BiasCorrectionPlan(graph: data.graph, session: session,
                                                weights: targets.filter { $0.role == .weight }.map(\.name))
        return try search.run(targets, session: &session, probe: &probe, biasCorrection: correction)
    }
    var full = everything
    let expected = try run(&full)
    let found = try run(&bounded)
    #expect(found.loss == expected.loss)
    #expect(found.report.sweep == expected.report.sweep)
    #expect(found.multipliers == expected.multipliers)
    #expect(found.quantizers.map(\.base) == expected.quantizers.map(\.base))
    for name in ["logits", output] where data.graph.outputs.contains(where: { $0.name == name }) {
        #expect(CalibrationSession.joinedOutputs(found.state, name: name) == CalibrationSession.joinedOutputs(expected.state, name: name))
    }
    // Dropped values are recomputed on request.
    let inner = data.graph.nodes[data.graph.nodes.count / 2].outputs[0]
    #expect(bounded.referenceValue(inner) == everything.referenceValue(inner))
}

/// Re-runs from a checkpointed cache equal full runs, whichever values change, including dropped activations.
@Test func checkpointedRerunEqualsFullRun() throws {
    let data = try ExampleData("mobilenet-digits", samples: 4)
    let plan = try ExecutionPlan(graph: data.graph, inputShapes: data.inputs.mapValues(\.shape))
    let sparse = plan.checkpointing(every: 5)
    let base = try #require(sparse.run(data.inputs, retain: .all).cache)
    let activations = data.graph.nodes.map { $0.outputs[0] }
    let weights = data.graph.nodes.compactMap { $0.inputs.count > 1 && data.graph.initializers[$0.inputs[1]] != nil ? $0.inputs[1] : nil }
    for (k, names) in [[activations[1]], [weights[2]], [activations[activations.count / 2], weights[weights.count - 1]],
                       [activations[3], activations[7]]].enumerated() {
        var hooks = TensorHooks()
        for name in names { hooks[name] = { t in Tensor(shape: t.shape, floats: t.floats!.map { $0 * 0.5 + Float(k) * 0.01 }) } }
        let full = try plan.run(data.inputs, hooks: hooks, retain: .all).outputs
        let rerun = try sparse.rerun(from: base, changed: Set(names), hooks: hooks, retain: .all)
        #expect(rerun.outputs == full, "changed \(names)")
        // And back to FP32 from that state.
        let back = try sparse.rerun(from: rerun.cache!, changed: Set(names), hooks: .none, retain: .all)
        // (A retaining run: an unhooked forward pass may keep activations channel-blocked, with other rounding.)
        #expect(back.outputs == (try plan.run(data.inputs, retain: .all).outputs))
    }
}

/// A checkpointed cache keeps only the raw form of hooked activations; `value(named:)` and re-runs that leave those
/// hooks alone make the hooked form again, so results equal full runs. An unbounded plan keeps only the hooked form.
@Test func checkpointedCacheKeepsRawActivationsOnly() throws {
    let data = try ExampleData("mobilenet-digits", samples: 4)
    let plan = try ExecutionPlan(graph: data.graph, inputShapes: data.inputs.mapValues(\.shape))
    let sparse = plan.checkpointing(every: 3)
    let activations = data.graph.nodes.map { $0.outputs[0] }
    let coarse = roundingHooks(4, activations)
    let bounded = try #require(sparse.run(data.inputs, hooks: coarse, retain: .all).cache)
    let everything = try #require(plan.run(data.inputs, hooks: coarse, retain: .all).cache)
    let output = Set(data.graph.outputs.map(\.name))
    let rawOnly = activations.filter { !output.contains($0) }.compactMap { bounded.slots[$0] }.filter { bounded.unhooked[$0] != nil }
    #expect(rawOnly.count >= activations.count / 3 - 1)
    #expect(rawOnly.allSatisfy { bounded.values[$0] == nil })
    #expect(rawOnly.allSatisfy { everything.values[$0] != nil && everything.unhooked[$0] == nil })
    for name in activations where bounded.unhookedValue(named: name) != nil {
        #expect(bounded.value(named: name) == everything.value(named: name), "\(name)")
    }
    // One hook changes; the unchanged ones upstream and on side inputs are applied again from the raw values.
    for name in [activations[2], activations[activations.count / 2], activations[activations.count - 3]] {
        var changed = coarse
        changed[name] = roundingHooks(16, [name])[name]
        let rerun = try sparse.rerun(from: bounded, changed: [name], hooks: changed, retain: .all)
        #expect(rerun.outputs == (try plan.run(data.inputs, hooks: changed).outputs), "\(name)")
        let again = try sparse.rerun(from: rerun.cache!, changed: [name], hooks: coarse, retain: .all)
        #expect(again.outputs == (try plan.run(data.inputs, hooks: coarse).outputs), "\(name)")
    }
}

/// Hooks that round each named float tensor to multiples of 1/`scale`.
func roundingHooks(_ scale: Float, _ names: [String]) -> TensorHooks {
    var hooks = TensorHooks()
    for name in names { hooks[name] = { t in Tensor(shape: t.shape, floats: t.floats!.map { ($0 * scale).rounded() / scale }) } }
    return hooks
}

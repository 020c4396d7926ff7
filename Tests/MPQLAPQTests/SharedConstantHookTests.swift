import Foundation
@testable import MPQExecutor
import MPQGraph
import MPQKernels
import Testing

/// A weight's hook runs once for all runs with the same hooks (every batch reads one hooked array), and a changed
/// hook is never answered from a result computed before the change.
@Test func hookedWeightsAreSharedByRunsAndFollowChangedHooks() throws {
    let data = try ExampleData("mobilenet-digits", samples: 4)
    let plan = try ExecutionPlan(graph: data.graph, inputShapes: data.inputs.mapValues(\.shape))
    let weight = try #require(data.graph.nodes.compactMap { node in
        node.inputs.count > 1 && data.graph.initializers[node.inputs[1]] != nil ? node.inputs[1] : nil
    }.first)
    let calls = Locked(0)
    var hooks = TensorHooks()
    hooks[weight] = { t in
        calls.withValue { $0 += 1 }
        return Tensor(shape: t.shape, floats: t.floats!.map { $0 * 0.5 })
    }
    let first = try #require(plan.run(data.inputs, hooks: hooks, retain: .all).cache)
    let second = try #require(plan.run(data.inputs, hooks: hooks, retain: .all).cache)
    #expect(calls.withValue { $0 } == 1)
    let a = try #require(first.value(named: weight)), b = try #require(second.value(named: weight))
    #expect(a.sharesStorage(with: b))
    #expect(a.floats == data.graph.initializers[weight]!.floats!.map { $0 * 0.5 })

    // A re-run that changes the weight's hook reads the new hook's result, once more shared.
    let old = try plan.run(data.inputs, hooks: hooks).outputs
    hooks[weight] = { t in Tensor(shape: t.shape, floats: t.floats!.map { $0 * 0.25 }) }
    let changed = try plan.rerun(from: first, changed: [weight], hooks: hooks, retain: .all)
    // (A retaining run: a forward pass may keep activations blocked and round differently.)
    let full = try plan.run(data.inputs, hooks: hooks, retain: .all).outputs
    #expect(changed.outputs == full)
    #expect(full != old)
    #expect(try #require(changed.cache?.value(named: weight)).floats == data.graph.initializers[weight]!.floats!.map { $0 * 0.25 })
}

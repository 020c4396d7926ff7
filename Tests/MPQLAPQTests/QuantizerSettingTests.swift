import Foundation
@testable import MPQExecutor
import MPQGraph
@testable import MPQLAPQ
import MPQQuantization
import Testing

/// Keys are the exact bit patterns: equal floats give equal keys, any other bit pattern (even −0) another.
@Test func settingKeysAreExactBitPatterns() {
    #expect(QuantizerSetting.keyPart([1, -0.0, 0.1]) == "3f800000,80000000,3dcccccd,")
    #expect(QuantizerSetting.keyPart([]) == "")
    #expect(QuantizerSetting.keyPart([0.1]) != QuantizerSetting.keyPart([Float(0.1).nextUp]))
}

/// The corrected bias, computed when the hook first runs, is the closed form's: the bias minus the output shift of
/// the weight quantized at that multiplier; it is computed once and shared by every batch.
@Test func lazyBiasCorrectionMatchesTheClosedForm() throws {
    let (graph, plan, quantizers) = try BiasCorrectionFixture.digitsW4A8()
    let q = quantizers[0]
    let layer = try #require(plan.layers[q.name])
    let (bias, setting) = try #require(plan.setting(for: q, multiplier: 0.8))
    #expect(bias == layer.bias)
    let quantized = try FakeQuantizer(q.parameters(multiplier: 0.8))(layer.weightValue)
    let shift = try BiasCorrection.outputShift(weight: layer.weightValue, quantized: quantized, layout: layer.layout,
                                               inputMeans: layer.inputMeans)
    let expected = try BiasCorrection.correctedBias(layer.biasValue, shift: shift)
    let original = try #require(graph.initializers[bias])
    #expect(setting.transform(original).asFloats == expected)
    #expect(setting.transform(original).asFloats == expected)
    #expect(expected != original.asFloats)
    let other = try #require(plan.setting(for: q, multiplier: 1.2)).1
    #expect(other.key != setting.key && other.transform(original).asFloats != expected)
}

/// Setting a hook by name replaces all of it: a run reads the new transform, not the out-of-place form of the old one.
@Test func settingAHookReplacesItsOutOfPlaceForm() throws {
    let data = try ExampleData("mobilenet-digits", samples: 4)
    let plan = try ExecutionPlan(graph: data.graph, inputShapes: data.inputs.mapValues(\.shape))
    let activation = try #require(data.graph.nodes.first?.outputs.first)
    let coarse = TensorQuantizer.setting(QuantizerParameters(grid: try .signedSymmetric(bits: 4), scales: [0.5], zeroPoints: [0],
                                                             qmin: -8, qmax: 7, axis: nil))
    var hooks = TensorHooks([activation: coarse])
    #expect(hooks.outOfPlace[activation] != nil)
    hooks[activation] = { $0 }
    #expect(hooks.outOfPlace[activation] == nil && hooks.perElement.isEmpty)
    // (Declared per element again, the re-run takes the cached run's channel-blocked steps: bit-identical outputs.)
    hooks.perElement = [activation]
    // A cached run re-applies the hook out of place: it must be the identity now.
    let fp32 = try plan.run(data.inputs, retain: .all)
    let rerun = try plan.rerun(from: try #require(fp32.cache), changed: [activation], hooks: hooks, retain: .all)
    #expect(rerun.outputs == fp32.outputs)
}

/// Per-tensor quantizers act per element, so a forward pass may apply them to channel-blocked activations;
/// per-channel ones depend on the channel's position and may not.
@Test func perTensorSettingsActPerElement() throws {
    let grid = try QuantizationGrid.signedSymmetric(bits: 8)
    let perTensor = TensorQuantizer.setting(QuantizerParameters(grid: grid, scales: [0.1], zeroPoints: [0], qmin: -128,
                                                                qmax: 127, axis: nil))
    let perChannel = TensorQuantizer.setting(QuantizerParameters(grid: grid, scales: [0.1, 0.2], zeroPoints: [0, 0],
                                                                 qmin: -128, qmax: 127, axis: 0))
    #expect(perTensor.actsPerElement && !perChannel.actsPerElement)
    var hooks = TensorHooks(["a": perTensor, "w": perChannel, "b": QuantizerSetting(key: "k") { $0 }])
    #expect(hooks.perElement == ["a"])
    hooks["a"] = { $0 }
    #expect(hooks.perElement.isEmpty)
}

/// A plan's measurement (a forward pass keeping no activations) runs mobilenet-digits with per-tensor activation and
/// per-channel weight quantizers on channel-blocked activations, and its outputs are the caching evaluation's up to
/// float rounding.
@Test func quantizedForwardPassesKeepActivationsBlocked() throws {
    let data = try ExampleData("mobilenet-digits", samples: 8)
    var session = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 8)
    let grid = try QuantizationGrid.signedSymmetric(bits: 8)
    var settings: [String: QuantizerSetting] = [:]
    for node in data.graph.nodes where node.opType == "Conv" {
        let weight = node.inputs[1]
        let channels = try #require(data.graph.initializers[weight]?.shape.first)
        settings[weight] = TensorQuantizer.setting(QuantizerParameters(
            grid: grid, scales: Array(repeating: 0.01, count: channels), zeroPoints: Array(repeating: 0, count: channels),
            qmin: -128, qmax: 127, axis: 0))
        settings[node.outputs[0]] = TensorQuantizer.setting(QuantizerParameters(grid: grid, scales: [0.05], zeroPoints: [0],
                                                                                qmin: -128, qmax: 127, axis: nil))
    }
    let steps = session.plan.forwardSteps(under: TensorHooks(settings)).steps
    #expect(steps.contains { $0.blockedOutput })
    let fast = try session.outputs(settings)
    let cached = try session.evaluate(settings).outputs
    let name = data.graph.outputs[0].name
    let a = try #require(fast.first?[name]?.floats), b = try #require(cached.first?[name]?.floats)
    let diff = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    // The quantizers act (8-bit weights on a 0.01 grid move the logits visibly).
    let fp32 = try #require(session.reference.outputs.first?[name]?.floats)
    #expect(zip(a, fp32).map { abs($0 - $1) }.max()! > 100 * max(diff, 1e-6))
    #expect(diff <= 0.05 * max(b.map(abs).max() ?? 1, 1), "max |Δ| \(diff)")
}

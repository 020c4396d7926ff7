import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQONNX
import Testing

/// The tiny BERT (MiniLM's structure, 2 layers) with its eight right-padded sentences (17, 13, 22, 10, 12, 21, 13
/// and 17 of 24 tokens).
private func tinyBERT() throws -> (Graph, [String: Tensor]) {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/minilm/tiny")
    let graph = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model-opset17.onnx")).optimizedGraph().0
    let archive = try NumpyArchive(contentsOf: dir.appendingPathComponent("inputs.npz"))
    var inputs: [String: Tensor] = [:]
    for input in graph.inputs { inputs[input.name] = try archive.array(named: input.name).validated(against: input) }
    return (graph, inputs)
}

/// Rounds every float of a tensor to a grid of `1/scale`: a quantizer-like setting whose result does not depend on
/// the tensor's other values.
private func rounding(_ scale: Float, _ names: [String]) -> [String: QuantizerSetting] {
    Dictionary(uniqueKeysWithValues: names.map { name in
        (name, QuantizerSetting(key: "round\(scale)") { t in Tensor(shape: t.shape, floats: t.floats!.map { ($0 * scale).rounded() / scale }) })
    })
}

private func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.asFloats, b.asFloats).map { abs($0 - $1) }.max() ?? .infinity
}

/// A session over padded sentences batches them longest first, cuts each batch to its longest sentence, and gives
/// back the outputs of the whole padded data, in data order: in FP32, under weight and activation hooks (evaluated
/// and re-run), and as `outputs(_:)`.
@Test func trimmedSessionMatchesThePaddedOneInDataOrder() throws {
    let (graph, inputs) = try tinyBERT()
    let output = graph.outputs[0].name
    let trimmed = try CalibrationSession(graph: graph, inputs: inputs, batchSize: 4)
    let whole = try CalibrationSession(graph: graph, inputs: inputs, batchSize: 4, trimsPadding: false)
    let padding = try #require(trimmed.padding)
    #expect(padding.lengths == [17, 13, 22, 10, 12, 21, 13, 17])
    #expect(Set(padding.inputNames) == Set(graph.inputs.map(\.name)))
    #expect(whole.padding == nil)
    // Batches of two (halves of four): 22+21, 17+17, 13+13, 12+10 tokens.
    #expect(trimmed.batches.map { $0[padding.maskName]!.shape } == [[2, 22], [2, 17], [2, 13], [2, 12]])
    #expect(whole.batches.allSatisfy { $0[padding.maskName]!.shape == [2, 24] })

    let direct = try #require(try ExecutionPlan(graph: graph, inputShapes: inputs.mapValues(\.shape)).run(inputs).outputs[output])
    let reference = CalibrationSession.joinedOutputs(trimmed.reference, name: output)
    #expect(reference.shape == direct.shape)
    #expect(maxDifference(reference, direct) <= 1e-5)

    let weights = graph.nodes.filter { $0.opType == "MatMul" }.compactMap { node in
        node.inputs.dropFirst().first { graph.initializers[$0] != nil }
    }
    let activations = Array(Set(graph.nodes.filter { $0.opType == "MatMul" }.map(\.inputs[0]))).sorted()
    #expect(weights.count >= 4 && activations.count >= 4)
    let coarse = rounding(16, weights).merging(rounding(8, activations)) { a, _ in a }
    var (t, w) = (trimmed, whole)
    let quantized = (CalibrationSession.joinedOutputs(try t.evaluate(coarse), name: output),
                     CalibrationSession.joinedOutputs(try w.evaluate(coarse), name: output))
    #expect(maxDifference(quantized.0, quantized.1) <= 1e-5)
    #expect(maxDifference(quantized.0, reference) > 1e-3, "the hooks change the outputs")
    let forward = trimmed.joinedOutputs(try trimmed.outputs(coarse), name: output)
    #expect(maxDifference(forward, quantized.1) <= 1e-5)

    // A re-run that changes one activation's hook, from the hooked state.
    var finer = coarse
    finer[activations[2]] = rounding(64, [activations[2]])[activations[2]]
    let baseT = try t.evaluate(coarse), baseW = try w.evaluate(coarse)
    let rerun = (CalibrationSession.joinedOutputs(try t.evaluate(finer, from: baseT), name: output),
                 CalibrationSession.joinedOutputs(try w.evaluate(finer, from: baseW), name: output))
    #expect(maxDifference(rerun.0, rerun.1) <= 1e-5)
    #expect(t.statistics.nodesRun < t.statistics.nodesTotal)
}

/// Activation values are read over the real tokens of each trimmed batch (joined flat when batches differ in
/// length); a probe takes the first samples as given, padded, in data order.
@Test func trimmedSessionValuesAndProbe() throws {
    let (graph, inputs) = try tinyBERT()
    let session = try CalibrationSession(graph: graph, inputs: inputs, batchSize: 4)
    let padding = try #require(session.padding)
    let activation = try #require(graph.nodes.first { $0.opType == "MatMul" }?.inputs[0])
    let value = try #require(session.unhookedValue(activation, in: session.reference))
    // One row of `hidden` features per kept position: 2 × (22 + 17 + 13 + 12) positions.
    let width = try #require(session.plan.type(of: activation)?.shape.last)
    #expect(value.rank == 1 && value.count == 2 * (22 + 17 + 13 + 12) * width)
    #expect(session.referenceValue(activation) == nil, "batches of different lengths have no joined shape")

    let probe = CalibrationSession.probeInputs(session, count: 3)
    for name in padding.inputNames { #expect(probe[name] == inputs[name]!.slice(axis0: 0..<3)) }
}

/// A model whose outputs depend on the padding (here a sum over every token id, padding included) is run whole,
/// as is one whose outputs keep the position axis; so is a mask that is not right padding.
@Test func paddingIsKeptWhereTheModelReadsIt() throws {
    func model(summed: Bool) -> Graph {
        let seq: [MPQGraph.Dimension] = [.symbolic("batch"), .symbolic("seq")]
        var nodes = [Node(name: "cast", opType: "Cast", inputs: ["input_ids"], outputs: ["ids"], attributes: ["to": .int(1)]),
                     Node(name: "mask", opType: "Cast", inputs: ["attention_mask"], outputs: ["m"], attributes: ["to": .int(1)]),
                     Node(name: "mul", opType: "Mul", inputs: ["ids", "m"], outputs: ["masked"]),
                     Node(name: "add", opType: "Add", inputs: ["masked", "ids"], outputs: ["y"])]
        if summed {
            nodes.append(Node(name: "sum", opType: "ReduceSum", inputs: ["y", "axes"], outputs: ["out"], attributes: ["keepdims": .int(0)]))
        } else {
            nodes.append(Node(name: "id", opType: "Identity", inputs: ["y"], outputs: ["out"]))
        }
        return Graph(nodes: nodes, initializers: ["axes": Tensor(shape: [1], int64s: [1])],
                     inputs: [ValueInfo(name: "input_ids", elementType: .int64, declaredTypeName: "int64", shape: seq),
                              ValueInfo(name: "attention_mask", elementType: .int64, declaredTypeName: "int64", shape: seq)],
                     outputs: [ValueInfo(name: "out", elementType: .float32, declaredTypeName: "float", shape: nil)],
                     opsetVersion: 17)
    }
    let ids = Tensor(shape: [4, 5], int64s: [3, 4, 0, 0, 0, 5, 0, 0, 0, 0, 6, 7, 8, 9, 0, 2, 2, 7, 0, 0])
    let mask = Tensor(shape: [4, 5], int64s: [1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0])
    let inputs = ["input_ids": ids, "attention_mask": mask]
    #expect(SequencePadding(graph: model(summed: true), inputs: inputs)?.lengths == [2, 1, 4, 3])
    // Padding ids are 0 here, so the sum ignores them: trimmed.
    let ignoring = try CalibrationSession(graph: model(summed: true), inputs: inputs, batchSize: 4)
    #expect(ignoring.padding != nil)
    #expect(CalibrationSession.joinedOutputs(ignoring.reference, name: "out").floats == [14, 10, 60, 22])
    // Padding ids of 1 enter the sum: run whole.
    let padded = ["input_ids": Tensor(shape: [4, 5], int64s: ids.int64s!.map { $0 == 0 ? 1 : $0 }), "attention_mask": mask]
    let reading = try CalibrationSession(graph: model(summed: true), inputs: padded, batchSize: 4)
    #expect(reading.padding == nil)
    #expect(CalibrationSession.joinedOutputs(reading.reference, name: "out").floats == [17, 14, 61, 24])
    // Outputs per position: run whole.
    #expect(try CalibrationSession(graph: model(summed: false), inputs: inputs, batchSize: 4).padding == nil)
    // A length baked into a Reshape (the data's 5 positions): shorter batches fail to run, so all run padded.
    var baked = model(summed: true)
    baked.nodes.insert(Node(name: "reshape", opType: "Reshape", inputs: ["ids", "five"], outputs: ["ids5"]), at: 1)
    baked.nodes = baked.nodes.map { node in
        var node = node
        node.inputs = node.inputs.map { $0 == "ids" && node.name != "reshape" ? "ids5" : $0 }
        return node
    }
    baked.initializers["five"] = Tensor(shape: [2], int64s: [-1, 5])
    let bakedSession = try CalibrationSession(graph: baked, inputs: inputs, batchSize: 4)
    #expect(bakedSession.padding == nil)
    #expect(CalibrationSession.joinedOutputs(bakedSession.reference, name: "out").floats == [14, 10, 60, 22])
    // Left padding, a gap in a mask, an input with the positions on another axis, a fixed length: no padding found.
    let left = Tensor(shape: [2, 3], int64s: [0, 1, 1, 1, 1, 1])
    let gap = Tensor(shape: [2, 3], int64s: [1, 0, 1, 1, 1, 0])
    for m in [left, gap] {
        #expect(SequencePadding(graph: model(summed: true), inputs: ["input_ids": m, "attention_mask": m]) == nil)
    }
    var extra = model(summed: true)
    extra.inputs.append(ValueInfo(name: "features", elementType: .float32, declaredTypeName: "float", shape: nil))
    let across = Tensor(shape: [4, 2, 5], floats: Array(repeating: 0, count: 40))
    #expect(SequencePadding(graph: extra, inputs: inputs.merging(["features": across]) { a, _ in a }) == nil)
    // Per-position features (positions on axis 1) are cut with the tokens.
    let along = Tensor(shape: [4, 5, 2], floats: (0..<40).map(Float.init))
    let withFeatures = try #require(SequencePadding(graph: extra, inputs: inputs.merging(["features": along]) { a, _ in a }))
    #expect(withFeatures.inputNames == ["attention_mask", "features", "input_ids"])
    #expect(withFeatures.trimmed(["features": along], to: 3)["features"] == along.prefix(axis1: 3))
    var fixed = model(summed: true)
    fixed.inputs = fixed.inputs.map { ValueInfo(name: $0.name, elementType: .int64, declaredTypeName: "int64", shape: [.symbolic("batch"), .fixed(5)]) }
    #expect(SequencePadding(graph: fixed, inputs: inputs) == nil)
}

/// Rows gathered and positions cut keep every element type's values.
@Test func tensorRowsAndPositionPrefix() {
    let t = Tensor(shape: [3, 2, 2], floats: (0..<12).map(Float.init))
    #expect(t.rows([2, 0]) == Tensor(shape: [2, 2, 2], floats: [8, 9, 10, 11, 0, 1, 2, 3]))
    #expect(t.prefix(axis1: 1) == Tensor(shape: [3, 1, 2], floats: [0, 1, 4, 5, 8, 9]))
    let ids = Tensor(shape: [2, 3], int64s: [1, 2, 3, 4, 5, 6])
    #expect(ids.prefix(axis1: 2) == Tensor(shape: [2, 2], int64s: [1, 2, 4, 5]))
    #expect(ids.rows([1]) == Tensor(shape: [1, 3], int64s: [4, 5, 6]))
}

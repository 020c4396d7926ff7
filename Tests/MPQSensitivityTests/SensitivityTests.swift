import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQONNX
import MPQPlanner
import MPQQuantization
import MPQSensitivity
import Testing

private func example(_ name: String) throws -> (Graph, Tensor) {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/\(name)")
    let graph = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model.onnx")).optimizedGraph().0
    return (graph, try NumpyArray(contentsOf: dir.appendingPathComponent("calib.npy")).tensor)
}

@Test func contentHashIsFNV1a() {
    var h = ContentHash()
    h.combine("a")
    #expect(h.hex == "af63dc4c8601ec8c")
}

/// MobileNet-digits: one group per conv/gemm, depthwise convs recognised, residual Adds tie their inputs.
@Test func groupingOfMobileNet() throws {
    let (graph, _) = try example("mobilenet-digits")
    let tensors = try QuantizationPolicy().tensors(in: graph)
    let grouping = try QuantizerGrouping(graph: graph, tensors: tensors, equalPrecisionOps: ["Add"])
    let layers = graph.nodes.filter { ["Conv", "Gemm"].contains($0.opType) }.count
    #expect(grouping.groups.count == layers)
    #expect(grouping.groups.filter { $0.opTypes == ["DepthwiseConv"] }.count == 6)
    // Every quantized tensor belongs to exactly one group.
    let grouped = grouping.groups.flatMap { $0.tensors.map(\.name) }
    #expect(grouped.count == tensors.count && Set(grouped).count == tensors.count)
    // Three residual Adds: each ties the two groups producing its inputs.
    #expect(grouping.ties.count == 3)
    #expect(grouping.ties.allSatisfy { $0.count == 2 })
    let untied = try QuantizerGrouping(graph: graph, tensors: tensors)
    #expect(untied.ties.isEmpty)
}

@Test func regularizedSensitivitiesAreNonNegativeAndMonotone() {
    var table = SensitivityTable(key: "k", description: [:], groups: ["g"], candidates: ["W4A8", "W8A8", "W8A16"], referenceLoss: 1)
    table.increases["g"] = ["W4A8": 0.5, "W8A8": 0.7, "W8A16": -0.1]
    let m = table.regularizedMatrix(precision: [(4, 8), (8, 8), (8, 16)])
    #expect(m == [[0.5, 0.5, 0]])
}

/// A W4A8 / W8A8 sweep of the digits CNN on 32 calibration samples, with its sessions.
private func digitsSweep() throws -> (SensitivitySweep, CalibrationSession, CalibrationSession, SensitivityTable) {
    let (graph, calib) = try example("digits")
    let inputs = [graph.inputs[0].name: calib.slice(axis0: 0..<32)]
    let tensors = try QuantizationPolicy().tensors(in: graph)
    let grouping = try QuantizerGrouping(graph: graph, tensors: tensors)
    let candidates = [Candidate(name: "W4A8", weightBits: 4, activationBits: 8), Candidate(name: "W8A8", weightBits: 8, activationBits: 8)]
    let session = try CalibrationSession(graph: graph, inputs: inputs, batchSize: 32)
    let output = graph.outputs[0].name
    let reference = CalibrationSession.joinedOutputs(session.reference, name: output)
    var options = StepSearch.Options()
    options.initialization = .mmse
    options.joint = nil
    let search = StepSearch(options: options, loss: { o in (try? CalibrationLoss.klDivergence(reference: reference, quantized: o[output]!)) ?? .infinity })
    let sweep = SensitivitySweep(grouping: grouping, candidates: candidates,
                                 allowed: grouping.groups.map { _ in [0, 1] }, search: search)
    let table = SensitivityTable(key: "test", description: [:], groups: grouping.groups.map(\.name),
                                 candidates: candidates.map(\.name), referenceLoss: 0)
    return (sweep, session, session, table)
}

/// The sweep fills only missing groups, so an interrupted run resumes without re-measuring.
@Test func sweepResumesFromStoredTable() throws {
    var (sweep, session, probe, table) = try digitsSweep()
    let store = FileManager.default.temporaryDirectory.appendingPathComponent("mpq-sens-\(ProcessInfo.processInfo.processIdentifier).json")
    defer { try? FileManager.default.removeItem(at: store) }
    try sweep.run(&table, session: &session, probe: &probe, store: store)
    #expect(table.isComplete)
    // The table is written at the end and its journal removed.
    #expect(!FileManager.default.fileExists(atPath: SensitivityJournal(besides: store).url.path))
    // Fewer bits hurt more (KL from FP32).
    for g in table.groups {
        let w4 = try #require(table.increases[g]?["W4A8"] ?? nil)
        let w8 = try #require(table.increases[g]?["W8A8"] ?? nil)
        #expect(w4 > w8, "\(g)")
    }
    // Simulate a kill after the first groups: drop the last group and resume from the stored file.
    var stored = try #require(try SensitivityTable.load(from: store))
    #expect(stored == table)
    let last = stored.groups.last!
    stored.increases[last] = nil
    try stored.save(to: store)
    var resumed = try #require(try SensitivityTable.load(from: store))
    var measured: [Int] = []
    try sweep.run(&resumed, session: &session, probe: &probe, store: store) { done, _ in measured.append(done) }
    #expect(measured == [stored.groups.count])
    #expect(resumed.increases == table.increases)
}

/// A sweep killed before writing its table resumes from the journal: journaled groups are kept (a torn last line
/// and another table's lines skipped), the rest measured, the table written and the journal removed.
@Test func sweepResumesFromJournal() throws {
    var (sweep, session, probe, table) = try digitsSweep()
    try sweep.run(&table, session: &session, probe: &probe, store: nil)
    let store = FileManager.default.temporaryDirectory.appendingPathComponent("mpq-journal-\(ProcessInfo.processInfo.processIdentifier).json")
    let journal = SensitivityJournal(besides: store)
    defer { try? FileManager.default.removeItem(at: store); journal.remove() }
    #expect(table.groups.count == 4)
    for g in table.groups.prefix(2) { try journal.append(table.journalEntry(g)) }
    var foreign = table.journalEntry(table.groups[2])
    foreign.key = "another table"
    try journal.append(foreign)
    // A kill in the middle of a line: half of the last group's entry.
    let torn = try JSONEncoder().encode(table.journalEntry(table.groups[3]))
    let handle = try FileHandle(forWritingTo: journal.url)
    try handle.seekToEnd()
    try handle.write(contentsOf: Data("\n".utf8) + torn.prefix(torn.count / 2))
    try handle.close()
    #expect(try journal.entries(key: table.key).map(\.group) == Array(table.groups.prefix(2)))

    var resumed = SensitivityTable(key: table.key, description: [:], groups: table.groups, candidates: table.candidates, referenceLoss: 0)
    var measured: [Int] = []
    try sweep.run(&resumed, session: &session, probe: &probe, store: store) { done, _ in measured.append(done) }
    #expect(measured == [3, 4])
    #expect(resumed.increases == table.increases)
    #expect(resumed.quantizers == table.quantizers)
    #expect(try SensitivityTable.load(from: store)?.increases == table.increases)
    #expect(!FileManager.default.fileExists(atPath: journal.url.path))
}

/// Attention block: weights give groups, attention·V (no weight) owns the softmax output and its own output,
/// Q·Kᵀ owns nothing (its inputs belong to the Q and K projections, its output stays float).
@Test func groupingOfAttentionBlock() throws {
    let nodes = [
        Node(name: "q", opType: "MatMul", inputs: ["x", "wq"], outputs: ["q0"]),
        Node(name: "qBias", opType: "Add", inputs: ["q0", "bq"], outputs: ["qb"]),
        Node(name: "k", opType: "MatMul", inputs: ["x", "wk"], outputs: ["kb"]),
        Node(name: "kT", opType: "Transpose", inputs: ["kb"], outputs: ["kt"], attributes: ["perm": .ints([0, 2, 1])]),
        Node(name: "scores", opType: "MatMul", inputs: ["qb", "kt"], outputs: ["s"]),
        Node(name: "softmax", opType: "Softmax", inputs: ["s"], outputs: ["p"]),
        Node(name: "context", opType: "MatMul", inputs: ["p", "x"], outputs: ["ctx"]),
        Node(name: "o", opType: "MatMul", inputs: ["ctx", "wo"], outputs: ["y"]),
    ]
    var inits: [String: Tensor] = ["bq": .zeros([4])]
    for n in ["wq", "wk", "wo"] { inits[n] = .zeros([4, 4]) }
    let info = { (n: String) in ValueInfo(name: n, elementType: .float32, declaredTypeName: "float32", shape: nil) }
    let graph = Graph(nodes: nodes, initializers: inits, inputs: [info("x")], outputs: [info("y")], opsetVersion: 17)
    let tensors = try QuantizationPolicy().tensors(in: graph)
    let grouping = try QuantizerGrouping(graph: graph, tensors: tensors)
    let summary = grouping.groups.map { "\($0.name):\($0.tensors.map(\.name).joined(separator: ","))" }
    #expect(summary == ["q:wq,x,qb", "k:wk,kb", "o:wo", "context:p,ctx"])
    #expect(grouping.groups.last?.opTypes == ["MatMul"])
}

/// A transformer's residual Adds read a projection's output that the policy keeps in float (it feeds LayerNorm):
/// float inputs tie nothing, with the linear layers' bias Adds fused into their MatMuls (as the optimizer does) or
/// not, so the fusion leaves the planning problem as it was.
@Test func residualAddsOfFloatOutputsTieNothing() throws {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/minilm/tiny")
    let model = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model-opset17.onnx"))
    let fused = try model.optimizedGraph().0
    #expect(fused.nodes.contains { $0.opType == "MatMul" && $0.inputs.count == 3 })
    for graph in [fused, GraphOptimizer.unfuse(fused)] {
        let policy = QuantizationPolicy(floatOps: ["Softmax", "LayerNormalization"])
        let tensors = try policy.tensors(in: graph)
        let floats = Set(try policy.floatTensors(in: graph).map(\.name))
        #expect(!floats.isEmpty)
        let grouping = try QuantizerGrouping(graph: graph, tensors: tensors, equalPrecisionOps: ["Add", "Concat", "Sub", "Mul"],
                                             floatTensors: floats)
        #expect(grouping.ties.isEmpty, "\(grouping.tieReasons)")
    }
}

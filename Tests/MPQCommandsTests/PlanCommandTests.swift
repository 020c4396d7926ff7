import Foundation
@testable import MPQCommands
import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQPlanning
import ONNXProto
import Testing

private func planArguments(_ extra: [String], dir: URL) -> [String] {
    ["plan", Paths.example("digits/model.onnx"), "--calib", Paths.example("digits/calib.npy"),
     "--cache-dir", dir.appendingPathComponent("cache").path, "--output-dir", dir.path, "--batch-size", "128"] + extra
}

/// End to end on the digits CNN: the plan meets its budget, is measured, and the files are written;
/// a second run reuses the stored sensitivities.
@Test func planMeetsBudgetAndWritesFiles() throws {
    let dir = Paths.temporary("plan-digits")
    try? FileManager.default.removeItem(at: dir)
    let args = planArguments(["--budget", "6bits", "--profile", "generic-npu", "--pareto-points", "3"], dir: dir)
    let first = runMPQ(args)
    #expect(first.code == 0, "\(first.message)")
    let summary = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: dir.appendingPathComponent("plan.json")))
    let bits = try #require(summary.costs["bits"])
    #expect(bits <= 6 + 1e-9)
    #expect(summary.plan?.groups.count == 4)
    #expect(summary.measuredLoss != nil)
    #expect(summary.uniform.count == 4)
    #expect(!summary.tensors.isEmpty)
    for file in ["pareto.csv", "pareto.json", "pareto.svg", "report.html"] {
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "\(file)")
    }
    // The table's lock file (CacheLock) sits beside it.
    let cached = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("cache").path).sorted()
        .filter { !$0.hasSuffix(".lock") }
    #expect(cached.count == 2 && cached[0].hasPrefix("measured-") && cached[1].hasPrefix("sensitivity-"), "\(cached)")
    // The same run again reuses the table (identical plan) and the measured plans (identical losses).
    #expect(runMPQ(args).code == 0)
    let again = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: dir.appendingPathComponent("plan.json")))
    #expect(again.plan?.groups.map(\.candidate) == summary.plan?.groups.map(\.candidate))
    #expect(again.uniform.map(\.measuredLoss) == summary.uniform.map(\.measuredLoss))
    #expect(again.measuredLoss == summary.measuredLoss)
}

@Test func infeasibleBudgetNamesCheapestValue() {
    let dir = Paths.temporary("plan-infeasible")
    let r = runMPQ(planArguments(["--budget", "2bits", "--profile", "generic-npu", "--no-measure"], dir: dir))
    #expect(r.code == CommandFailure.dataError)
    #expect(r.message.contains("2bits") && r.message.contains("cheapest"))
}

@Test func unknownProfileListsBundledOnes() {
    let r = runMPQ(planArguments(["--budget", "6bits", "--profile", "no-such-npu"], dir: Paths.temporary("plan-profile")))
    #expect(r.code == CommandFailure.dataError)
    #expect(r.message.contains("no-such-npu") && r.message.contains("generic-npu"))
}

@Test func malformedBudgetIsExplained() {
    let r = runMPQ(planArguments(["--budget", "fast", "--profile", "generic-npu"], dir: Paths.temporary("plan-budget")))
    #expect(r.code == CommandFailure.dataError)
    #expect(r.message.contains("fast"))
}

/// A measured plan exports to a QDQ model that ONNX Runtime runs, and to encodings files.
@Test func planExportsToQDQAndEncodings() throws {
    let dir = Paths.temporary("plan-export")
    try? FileManager.default.removeItem(at: dir)
    let plan = runMPQ(planArguments(["--budget", "6bits", "--profile", "generic-npu", "--pareto-points", "0", "--no-refine"], dir: dir))
    #expect(plan.code == 0, "\(plan.message)")
    let planFile = dir.appendingPathComponent("plan.json").path
    let qdq = dir.appendingPathComponent("digits.qdq.onnx").path
    #expect(runMPQ(["export", planFile, "--format", "qdq", "-o", qdq]).code == 0)
    let qdqU8 = dir.appendingPathComponent("digits.u8.qdq.onnx").path
    #expect(runMPQ(["export", planFile, "--format", "qdq", "--weight-type", "uint8", "-o", qdqU8]).code == 0)
    #expect(runMPQ(["export", planFile, "--weight-type", "uint7", "-o", qdqU8]).message.contains("uint7"))
    // A --model the plan was not made for is refused, naming that model (not the plan's).
    let other = Paths.example("mobilenet-digits/model.onnx")
    let mismatch = runMPQ(["export", planFile, "--model", other, "-o", qdqU8])
    #expect(mismatch.code == CommandFailure.dataError && mismatch.message.contains("does not exist in the model \(other)"), "\(mismatch.message)")
    for version in ["0.6.1", "1.0.0"] {
        let out = dir.appendingPathComponent("digits-\(version).encodings").path
        #expect(runMPQ(["export", planFile, "--format", "encodings", "--encodings-version", version, "-o", out]).code == 0)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        #expect(json?["version"] as? String == version)
        #expect(json?[version == "0.6.1" ? "param_encodings" : "param_encodings"] != nil)
    }
    // ONNX Runtime loads and runs the QDQ model on the validation data; the uint8-weight model holds no int8 weight
    // codes and computes the same outputs (reference semantics, no integer kernels).
    let script = """
    import numpy as np, onnx, onnxruntime as ort
    x = np.load('\(Paths.example("digits/val.npy"))'); y = np.load('\(Paths.example("digits/val_labels.npy"))')
    def run(path, optimize):
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        s = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
        return s.run(None, {s.get_inputs()[0].name: x})[0]
    same = np.array_equal(run('\(qdq)', False), run('\(qdqU8)', False))
    int8_codes = sum(t.data_type == onnx.TensorProto.INT8 and t.name.endswith('_quantized') for t in onnx.load('\(qdqU8)').graph.initializer)
    uint8_codes = sum(t.data_type == onnx.TensorProto.UINT8 and t.name.endswith('_quantized') for t in onnx.load('\(qdqU8)').graph.initializer)
    assert same and int8_codes == 0 and uint8_codes > 0, (same, int8_codes, uint8_codes)
    print((run('\(qdqU8)', True).argmax(1) == y).mean())
    """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    process.waitUntilExit()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(process.terminationStatus == 0, "ONNX Runtime could not run the export (is onnxruntime installed?)")
    let accuracy = try #require(Double(text))
    #expect(accuracy > 0.95)
}

/// `mpq refine` lowers (never raises) a plan's calibration loss and records what it did. It refines on the samples
/// the plan was made with (`--calib-samples` limits them), so it starts from the plan's measured loss.
@Test func refineLowersCalibrationLoss() throws {
    let dir = Paths.temporary("plan-refine")
    try? FileManager.default.removeItem(at: dir)
    #expect(runMPQ(planArguments(["--budget", "5bits", "--profile", "generic-npu", "--pareto-points", "0", "--no-refine",
                                  "--calib-samples", "96"], dir: dir)).code == 0)
    let planFile = dir.appendingPathComponent("plan.json")
    let plan = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: planFile))
    #expect(plan.calibSamples == 96)
    let refinedFile = dir.appendingPathComponent("refined.json")
    let r = runMPQ(["refine", planFile.path, "--max-evaluations", "40", "-o", refinedFile.path])
    #expect(r.code == 0, "\(r.message)")
    let refined = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: refinedFile))
    let refinement = try #require(refined.refinement)
    #expect(refinement.lossAfter <= refinement.lossBefore)
    #expect(abs(refinement.lossBefore - plan.measuredLoss!) <= 1e-9 * plan.measuredLoss!)
    #expect(refinement.evaluations <= 40)
    // The held-out gains are recorded, and the summary line names the last one.
    let gains = try #require(refinement.heldOutGains)
    #expect(gains.allSatisfy { (1...refinement.evaluations).contains($0) })
    var report = refinement
    report.heldOutGains = [3, 9]
    #expect(report.heldOutGainText == "last held-out gain at evaluation 9")
    report.heldOutGains = []
    #expect(report.heldOutGainText == "no held-out gain")
    report.heldOutGains = nil
    #expect(report.heldOutGainText == nil)
    // Corrected biases are written exactly when bias correction lowered the loss and was kept.
    #expect(refined.correctedBiases.isEmpty == (refinement.biasCorrected == false))
    #expect(refined.measuredLoss == refinement.lossAfter)
    #expect(refinement.coordinateOrder == .graph)

    // `--order cheapest-first` is recorded and never raises the loss either.
    let cheapestFile = dir.appendingPathComponent("cheapest.json")
    let c = runMPQ(["refine", planFile.path, "--max-evaluations", "40", "--order", "cheapest-first", "-o", cheapestFile.path])
    #expect(c.code == 0, "\(c.message)")
    let cheapest = try #require(try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: cheapestFile)).refinement)
    #expect(cheapest.coordinateOrder == .cheapestFirst && cheapest.lossAfter <= cheapest.lossBefore)
    #expect(runMPQ(["refine", planFile.path, "--order", "backwards", "-o", cheapestFile.path]).code == 64)
}

/// `mpq plan` on the tiny BERT (MiniLM's structure) with a size budget and the cosine loss to the FP32
/// embeddings: attention scores stay in float, Q·Kᵀ and attention·V are planned, the embedding table is a
/// weight-only group, the budget holds, and the plan exports to a QDQ model whose ONNX Runtime embeddings agree
/// with mpq's simulation.
@Test func planOnTinyBERTWithSizeBudget() throws {
    let dir = Paths.temporary("plan-tiny-bert")
    try? FileManager.default.removeItem(at: dir)
    let model = Paths.example("minilm/tiny/model-opset17.onnx")
    let args = ["plan", model, "--calib", Paths.example("minilm/tiny/inputs.npz"), "--loss", "cosine",
                "--budget", "60KB", "--profile", "generic-npu", "--pareto-points", "3", "--refine-evaluations", "40",
                "--cache-dir", dir.appendingPathComponent("cache").path, "--output-dir", dir.path]
    let result = runMPQ(args)
    #expect(result.code == 0, "\(result.message)")
    let summary = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: dir.appendingPathComponent("plan.json")))
    #expect(try #require(summary.costs["size"]) <= 60_000 * (1 + 1e-9))
    #expect(summary.loss == "cosine")
    // Two layers: each keeps its Q·Kᵀ scores in float (they feed the mask add and Softmax), and the profile's
    // float-only LayerNormalization keeps the attention-output and FFN-output projections' outputs in float.
    #expect(summary.floatTensors.filter { $0.floatOp == "Softmax" }.map(\.layer)
            == ["/encoder/layer.0/attention/self/MatMul", "/encoder/layer.1/attention/self/MatMul"])
    #expect(summary.floatTensors.filter { $0.floatOp == "LayerNormalization" }.count == 4)
    let groups = try #require(summary.plan?.groups)
    #expect(groups.contains { $0.opTypes == ["Gather"] && $0.parameters > 0 })
    #expect(groups.filter { $0.opTypes == ["MatMul"] && $0.parameters == 0 }.count == 2)   // attention·V
    let measured = try #require(summary.measuredLoss)
    #expect(measured.isFinite && measured >= 0 && measured < 0.05)
    try expectQDQExportMatchesSimulation(plan: dir.appendingPathComponent("plan.json"), summary: summary,
                                         inputs: Paths.example("minilm/tiny/inputs.npz"))
}

/// `mpq export --format qdq` of a transformer plan: the embedding table is int codes dequantized per row
/// (axis 0), both inputs of the activation-activation MatMuls are quantized, the attention scores and the
/// other float tensors have no Q/DQ, the int64 inputs are untouched; ONNX Runtime's embeddings agree with
/// mpq's simulation of the plan.
///
/// Measured (8 sentences, unit-norm 32-d embeddings; the plan's own quantization error is
/// 1 − cosine ≈ 3e-4 to FP32): with ORT's graph optimizations off, and on with its 4-bit MatMulNBits
/// kernels in float32 (`session.qdq_matmulnbits_accuracy_level` 1), 1 − cosine(ORT, mpq) ≤ 6e-11 and
/// max |ORT − mpq| 5e-6 (float32 summation order): required 1 − cosine ≤ 1e-6. ORT's default for
/// DQ(int4) → MatMul fused into MatMulNBits is accuracy level 4, which quantizes the *activations* to
/// int8 inside the kernel — an approximation ORT adds that is not in the QDQ model: 1 − cosine 1.7e-6,
/// max error 8.6e-4; required 1 − cosine ≤ 1e-5, still 30× below the quantization error planned.
func expectQDQExportMatchesSimulation(plan: URL, summary: PlanFile, inputs npz: String) throws {
    let qdq = plan.deletingLastPathComponent().appendingPathComponent("model.qdq.onnx").path
    let export = runMPQ(["export", plan.path, "--format", "qdq", "-o", qdq])
    #expect(export.code == 0, "\(export.message)")
    guard export.code == 0 else { return }

    // What the QDQ model contains.
    let model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: qdq))).graph
    let graph = try LoadedModel(path: summary.model).graph.withExplicitBiases()
    let dequantized = Set(model.node.filter { $0.opType == "DequantizeLinear" }.flatMap(\.output))
    let quantized = Set(model.node.filter { $0.opType == "QuantizeLinear" }.compactMap(\.input.first))
    let gather = try #require(summary.tensors.first { $0.role == "weight" && $0.name.contains("word_embeddings") })
    #expect(gather.axis == 0)
    let gatherDQ = try #require(model.node.first { $0.opType == "DequantizeLinear" && $0.output == [gather.name] })
    #expect(gatherDQ.attribute.first { $0.name == "axis" }?.i == 0)
    #expect(!model.initializer.contains { $0.name == gather.name })
    // Q·Kᵀ and attention·V in two layers read two quantized activations each (through Reshape/Transpose).
    let activationMatMuls = graph.nodes.filter { $0.opType == "MatMul" && $0.inputs.allSatisfy { graph.initializers[$0] == nil } }
    #expect(activationMatMuls.count == 4)
    for m in activationMatMuls {
        let exported = try #require(model.node.first { $0.name == m.name })
        #expect(exported.input.allSatisfy(dequantized.contains), "\(m.displayName) reads a float input: \(exported.input)")
    }
    for t in summary.floatTensors { #expect(!quantized.contains(t.name), "float tensor \(t.name) is quantized") }
    for input in ["input_ids", "attention_mask"] {
        #expect(!quantized.contains(input))
        #expect(model.input.first { $0.name == input }?.type.tensorType.elemType == Int32(Onnx_TensorProto.DataType.int64.rawValue))
    }

    // mpq's simulation of the plan, as exported.
    let quantizers = try summary.tensors.map { try ExportCommand.quantizer(from: $0) }
    let corrected = summary.correctedBiases.mapValues { Tensor(shape: [$0.count], floats: $0) }
    var hooks = TensorHooks()
    for (name, s) in StepSearch.settings(quantizers, correctedBiases: corrected, biases: BiasQuantization(graph: graph)) { hooks[name] = s.transform }
    let data = try LabelledData(data: [npz], labels: nil, graph: graph)
    let runner = try BatchRunner(graph: graph, sampleShapes: data.sampleShapes, sampleCount: data.sampleCount, batchSize: 64)
    let simulated = try #require(try runner.run(data.inputs, hooks: hooks)[graph.outputs[0].name])

    let d = simulated.shape[1]
    let modes: [(name: String, optimize: Bool, config: [String: String], maxOneMinusCosine: Double)] = [
        ("reference", false, [:], 1e-6),
        ("optimized, float MatMulNBits", true, ["session.qdq_matmulnbits_accuracy_level": "1"], 1e-6),
        ("optimized, ORT defaults", true, [:], 1e-5),
    ]
    for mode in modes {
        let ort = try onnxRuntime(model: qdq, inputs: npz, optimize: mode.optimize, config: mode.config)
        #expect(ort.shape == simulated.shape)
        let a = ort.asFloats, b = simulated.asFloats
        let cosines = (0..<simulated.shape[0]).map { r -> Double in
            let x = a[(r * d)..<(r * d + d)].map(Double.init), y = b[(r * d)..<(r * d + d)].map(Double.init)
            let dot = zip(x, y).map(*).reduce(0, +)
            return dot / (x.map { $0 * $0 }.reduce(0, +).squareRoot() * y.map { $0 * $0 }.reduce(0, +).squareRoot())
        }
        let maxError = zip(a, b).map { abs($0 - $1) }.max()!
        print("QDQ tiny BERT ORT \(mode.name): max 1 − cosine(ORT, mpq) \(1 - cosines.min()!), max |ORT − mpq| \(maxError)")
        #expect(1 - cosines.min()! <= mode.maxOneMinusCosine, "\(mode.name): cosines \(cosines)")
    }
}

/// mpq.json's `calib_samples` and `step_search` reach the sweep (they key the sensitivity cache), and
/// with the cosine loss the validation metrics carry the worst sentence's cosine.
@Test func projectFileSelectsCalibrationSamplesAndStepSearch() throws {
    let dir = Paths.temporary("plan-project-file")
    try? FileManager.default.removeItem(at: dir)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    func project(_ stepSearch: String) throws -> String {
        let json: [String: Any] = ["model": Paths.example("minilm/tiny/model-opset17.onnx"),
                                   "calib": Paths.example("minilm/tiny/inputs.npz"), "val": Paths.example("minilm/tiny/inputs.npz"),
                                   "loss": "cosine", "profile": "generic-npu", "budget": ["60KB"],
                                   "calib_samples": 4, "step_search": stepSearch]
        let url = dir.appendingPathComponent("mpq-\(stepSearch).json")
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return url.path
    }
    let cache = dir.appendingPathComponent("cache")
    let result = runMPQ(["plan", "--project", try project("mmse"), "--pareto-points", "0", "--no-refine",
                         "--cache-dir", cache.path, "--output-dir", dir.path])
    #expect(result.code == 0, "\(result.message)")
    let summary = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: dir.appendingPathComponent("plan.json")))
    let validation = try #require(summary.validation)
    let worst = try #require(validation.minCosine)
    #expect(worst > 0.9 && worst <= 1 - validation.loss + 1e-12)   // the lowest cosine is at most the mean
    let table = try #require(try FileManager.default.contentsOfDirectory(at: cache, includingPropertiesForKeys: nil)
        .first { $0.lastPathComponent.hasPrefix("sensitivity-") && $0.pathExtension == "json" })
    let stored = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: table)) as? [String: Any])
    let description = try #require(stored["description"] as? [String: String])
    #expect(description["calibration samples"] == "4")
    #expect(description["settings"]?.contains("search=mmse") == true)

    let bad = runMPQ(["plan", "--project", try project("fastest"), "--no-measure", "--cache-dir", cache.path, "--output-dir", dir.path])
    #expect(bad.code == CommandFailure.dataError)
    #expect(bad.message.contains("fastest") && bad.message.contains("step_search"))
}

/// Several ILP proposals per budget: the plan is the best measured proposal at its budget, and every measured
/// proposal of the sweep is recorded with its rank and whether it is on the measured front (the lower envelope).
/// One proposal is the ILP optimum alone.
@Test func planMeasuresSeveralProposalsAndRecordsTheFront() throws {
    let dir = Paths.temporary("plan-proposals")
    try? FileManager.default.removeItem(at: dir)
    let args = planArguments(["--budget", "6bits", "--profile", "generic-npu", "--pareto-points", "3", "--no-refine",
                              "--proposals", "3"], dir: dir)
    let r = runMPQ(args)
    #expect(r.code == 0, "\(r.message)")
    let summary = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: dir.appendingPathComponent("plan.json")))
    #expect(summary.proposalsPerBudget == 3)
    let proposals = try #require(summary.chosenProposals)
    #expect((2...4).contains(proposals.count), "\(proposals.count) proposals")
    #expect(proposals.compactMap(\.rank).prefix(3) == [0, 1, 2].prefix(min(3, proposals.count)))
    let selected = proposals.filter { $0.selected == true }
    #expect(selected.count == 1)
    let best = try #require(proposals.compactMap(\.measuredLoss).min())
    #expect(selected.first?.measuredLoss == best)
    // The plan is the best measured ILP proposal within the budget: at the budget itself or cheaper on the sweep.
    let measuredLoss = try #require(summary.measuredLoss)
    #expect(measuredLoss <= best)
    let chosen = try #require(summary.pareto.first { $0.candidates == summary.plan?.groups.map(\.candidate) })
    #expect(summary.chosenLabel == chosen.label)
    #expect(chosen.measuredLoss == measuredLoss)
    #expect(chosen.cost <= 6 + 1e-9)
    #expect(summary.pareto.filter { $0.cost <= 6 + 1e-9 }.allSatisfy { $0.measuredLoss! >= measuredLoss })
    // The sweep: every proposal measured once, the front a strict lower envelope dominating the rest.
    let pareto = summary.pareto
    #expect(summary.sweepPlansMeasured == pareto.count)
    #expect((summary.sweepProposals ?? 0) >= pareto.count)
    #expect(Set(pareto.compactMap(\.candidates)).count == pareto.count)
    let front = pareto.filter { $0.onFront == true }
    #expect(!front.isEmpty && pareto.allSatisfy { $0.onFront != nil })
    for (a, b) in zip(front, front.dropFirst()) { #expect(b.cost > a.cost && b.measuredLoss! < a.measuredLoss!) }
    for p in pareto where p.onFront == false {
        #expect(front.contains { $0.cost <= p.cost * (1 + 1e-9) && $0.measuredLoss! <= p.measuredLoss! })
    }
    // The plan's own budget is a point of the curve.
    for p in proposals { #expect(pareto.contains { $0.candidates == p.candidates }) }
    let csv = try String(contentsOf: dir.appendingPathComponent("pareto.csv"), encoding: .utf8)
    #expect(csv.hasPrefix("series,label,cost,predicted_loss,measured_loss,validation_loss,validation_accuracy,candidates,chosen,on_front,rank,tie_broken,selected\r\n"))
    #expect(csv.contains(",true,0,"))

    let single = runMPQ(planArguments(["--budget", "6bits", "--profile", "generic-npu", "--pareto-points", "0", "--no-refine",
                                       "--proposals", "1"], dir: dir))
    #expect(single.code == 0, "\(single.message)")
    let one = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: dir.appendingPathComponent("plan.json")))
    #expect(one.chosenProposals?.count == 1 && one.chosenProposals?.first?.rank == 0)
    #expect(one.chosenLabel == "proposal 1")
    #expect(runMPQ(planArguments(["--budget", "6bits", "--profile", "generic-npu", "--proposals", "0"], dir: dir)).code == 64)
}

/// `--pin` and mpq.json `pins` fix groups; a budget the pins make infeasible names them.
@Test func pinsFixGroupsAndNameThemselvesInErrors() throws {
    let dir = Paths.temporary("plan-pins")
    try? FileManager.default.removeItem(at: dir)
    let pinned = runMPQ(planArguments(["--budget", "6bits", "--profile", "generic-npu", "--no-measure",
                                       "--step-search", "mmse", "--pin", "op:Gemm=W16A16"], dir: dir))
    #expect(pinned.code == 0, "\(pinned.message)")
    let file = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: dir.appendingPathComponent("plan.json")))
    #expect(file.pins == ["op:Gemm=W16A16"])
    let gemm = try #require(file.plan?.groups.first { $0.opTypes.contains("Gemm") })
    #expect(gemm.candidate == "W16A16")
    let infeasible = runMPQ(planArguments(["--budget", "5bits", "--profile", "generic-npu", "--no-measure", "--step-search", "mmse",
                                           "--pin", "op:Conv=W16A16"], dir: dir))
    #expect(infeasible.code == CommandFailure.dataError)
    #expect(infeasible.message.contains("'op:Conv=W16A16'") && infeasible.message.contains("cheapest"), "\(infeasible.message)")
    // The project file's pins, validated like --pin.
    let project = dir.appendingPathComponent("mpq.json")
    try JSONSerialization.data(withJSONObject: ["pins": ["nothing*=W8A8"]]).write(to: project)
    let bad = runMPQ(planArguments(["--budget", "6bits", "--profile", "generic-npu", "--no-measure", "--step-search", "mmse",
                                    "--project", project.path], dir: dir))
    #expect(bad.code == CommandFailure.dataError && bad.message.contains("'nothing*=W8A8' matches no group"), "\(bad.message)")
}

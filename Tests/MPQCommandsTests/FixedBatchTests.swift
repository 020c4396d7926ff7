import Foundation
@testable import MPQCommands
import MPQData
import MPQExecutor
import MPQGraph
import MPQPlanning
import Testing

/// Models exported with a fixed batch axis (Tests/MPQONNXTests/Fixtures/fixed_batch, made by its
/// make_fixed_batch.py): the digits CNN at batch 1 and 4, and a tiny BERT-style encoder from the dynamo
/// exporter at batch 8 with the batch baked into its Reshapes. Each runs on any number of samples, in
/// batches of its size with the last one padded, and gives what its dynamic-batch export gives.
enum FixedBatchFixtures {
    static func path(_ name: String) -> String { Paths.fixture("fixed_batch/" + name) }

    /// The first `count` rows of an example's `.npy` file, written to a temporary file.
    static func rows(_ example: String, _ count: Int, tag: String) throws -> String {
        let array = try NumpyArray(contentsOf: URL(fileURLWithPath: Paths.example(example)))
        let url = Paths.temporary("fixed-batch-\(tag)-\(count)-\(URL(fileURLWithPath: example).lastPathComponent)")
        try NPYWriter.write(array.tensor.slice(axis0: 0..<count), to: url)
        return url.path
    }

    static func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.asFloats, b.asFloats).map { abs($0 - $1) }.max() ?? .infinity
    }

    static func relativeDifference(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-12) }
}

@Test func batchLayoutPadsOnlyAFixedModelsLastBatch() throws {
    let rows = Tensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6])
    #expect(rows.padded(axis0: 5).asFloats == [1, 2, 3, 4, 5, 6, 5, 6, 5, 6])
    // Values whose axis 0 is batch × heads keep the heads of the real samples.
    let heads = Tensor(shape: [8, 1], floats: (0..<8).map(Float.init))
    #expect(heads.validRows(3, of: 4).asFloats == [0, 1, 2, 3, 4, 5])
    #expect(heads.validRows(4, of: 4).shape == [8, 1])
    let fixed = try LoadedModel(path: FixedBatchFixtures.path("digits_batch4.onnx")).graph
    #expect(fixed.fixedBatchSize == 4)
    let batches = BatchLayout(graph: fixed, requested: 256).batches(sampleCount: 10)
    #expect(batches.map(\.size) == [4, 4, 4] && batches.map(\.validCount) == [4, 4, 2])
    let dynamic = try LoadedModel(path: Paths.example("digits/model.onnx")).graph
    #expect(dynamic.fixedBatchSize == nil)
    #expect(BatchLayout(graph: dynamic, requested: 4).batches(sampleCount: 10).map(\.size) == [4, 4, 2])
    #expect(FixedBatchNotice.text(graph: fixed, requested: 64)?.contains("batches of 4") == true)
    #expect(FixedBatchNotice.text(graph: fixed, requested: nil) == nil && FixedBatchNotice.text(graph: dynamic, requested: 64) == nil)
}

@Test func fixedBatchEvalMatchesDynamicExportAndONNXRuntime() throws {
    let reference = try NumpyArray(contentsOf: URL(fileURLWithPath: Paths.example("digits/val_reference.npy"))).tensor
    for (model, count) in [("digits_batch1.onnx", 7), ("digits_batch4.onnx", 10)] {
        let data = try FixedBatchFixtures.rows("digits/val.npy", count, tag: "eval")
        var outputs: [Tensor] = []
        for (i, path) in [FixedBatchFixtures.path(model), Paths.example("digits/model.onnx")].enumerated() {
            let saved = Paths.temporary("fixed-batch-eval-\(model)-\(i).npy")
            let r = runMPQ(["eval", path, "--data", data, "--save-outputs", saved.path, "--batch-size", "3"])
            #expect(r.code == 0, "\(r.message)")
            outputs.append(try NumpyArray(contentsOf: saved).tensor)
        }
        #expect(outputs[0].shape == [count, 10])
        #expect(FixedBatchFixtures.maxDifference(outputs[0], outputs[1]) < 1e-5, "\(model)")
        #expect(FixedBatchFixtures.maxDifference(outputs[0], reference.slice(axis0: 0..<count)) < 1e-4, "\(model) vs ONNX Runtime")
    }
}

/// Quantization on a sample count that is not a multiple of the batch: the same steps, losses and accuracy
/// (activation statistics, bias-correction means and losses see only the real samples).
@Test func fixedBatchQuantizeMatchesDynamicExport() throws {
    for (model, count) in [("digits_batch1.onnx", 7), ("digits_batch4.onnx", 10)] {
        let calib = try FixedBatchFixtures.rows("digits/calib.npy", count, tag: "q")
        let labels = try FixedBatchFixtures.rows("digits/calib_labels.npy", count, tag: "q")
        let val = try FixedBatchFixtures.rows("digits/val.npy", 2 * count + 1, tag: "q")
        let valLabels = try FixedBatchFixtures.rows("digits/val_labels.npy", 2 * count + 1, tag: "q")
        var reports: [QuantizeReport] = []
        var steps: [StepsFile] = []
        for (i, path) in [FixedBatchFixtures.path(model), Paths.example("digits/model.onnx")].enumerated() {
            let out = Paths.temporary("fixed-batch-steps-\(model)-\(i).json")
            let r = runMPQ(["quantize", path, "--calib", calib, "--labels", labels, "--val", val, "--val-labels", valLabels,
                            "--bits", "W4A8", "--method", "lapq-layerwise", "--per-channel", "--bias-correction",
                            "-o", out.path, "--json"])
            #expect(r.code == 0, "\(r.message)")
            reports.append(try QuantizeCommand.lastReport.get())
            steps.append(try JSONDecoder().decode(StepsFile.self, from: Data(contentsOf: out)))
        }
        let (fixed, dynamic) = (reports[0], reports[1])
        #expect(FixedBatchFixtures.relativeDifference(fixed.calibration.fp32.loss, dynamic.calibration.fp32.loss) < 1e-4)
        #expect(FixedBatchFixtures.relativeDifference(fixed.calibration.quantized.loss, dynamic.calibration.quantized.loss) < 1e-3)
        let fixedVal = try #require(fixed.validation), dynamicVal = try #require(dynamic.validation)
        #expect(FixedBatchFixtures.relativeDifference(fixedVal.quantized.loss, dynamicVal.quantized.loss) < 1e-3)
        #expect(fixedVal.quantized.accuracy == dynamicVal.quantized.accuracy)
        #expect(steps[0].quantizers.map(\.name) == steps[1].quantizers.map(\.name))
        for (a, b) in zip(steps[0].quantizers, steps[1].quantizers) {
            for (x, y) in zip(a.scales, b.scales) { #expect(FixedBatchFixtures.relativeDifference(Double(x), Double(y)) < 1e-3, "\(model) \(a.name)") }
        }
    }
}

/// `mpq plan` on the batch-4 export with 10 calibration samples (and 13 validation samples) chooses and measures
/// what the dynamic export does, and `mpq refine` starts from the same loss. The fixed model is asked for batches
/// of 3 and runs batches of 4.
@Test func fixedBatchPlanMatchesDynamicExport() throws {
    let calib = try FixedBatchFixtures.rows("digits/calib.npy", 10, tag: "plan")
    let val = try FixedBatchFixtures.rows("digits/val.npy", 13, tag: "plan")
    let valLabels = try FixedBatchFixtures.rows("digits/val_labels.npy", 13, tag: "plan")
    var files: [PlanFile] = []
    var refined: [PlanFile] = []
    for (i, path) in [FixedBatchFixtures.path("digits_batch4.onnx"), Paths.example("digits/model.onnx")].enumerated() {
        let dir = Paths.temporary("fixed-batch-plan-\(i)")
        try? FileManager.default.removeItem(at: dir)
        let r = runMPQ(["plan", path, "--calib", calib, "--val", val, "--val-labels", valLabels, "--budget", "6bits",
                        "--profile", "generic-npu", "--pareto-points", "0", "--no-refine", "--batch-size", i == 0 ? "3" : "256",
                        "--cache-dir", dir.appendingPathComponent("cache").path, "--output-dir", dir.path])
        #expect(r.code == 0, "\(r.message)")
        let planFile = dir.appendingPathComponent("plan.json")
        files.append(try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: planFile)))
        let refinedFile = dir.appendingPathComponent("refined.json")
        let refine = runMPQ(["refine", planFile.path, "--max-evaluations", "10", "-o", refinedFile.path])
        #expect(refine.code == 0, "\(refine.message)")
        refined.append(try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: refinedFile)))
    }
    let before = try refined.map { try #require($0.refinement).lossBefore }
    #expect(FixedBatchFixtures.relativeDifference(before[0], before[1]) < 1e-3)
    #expect(try #require(refined[0].refinement).lossAfter <= before[0])
    let fixedValidation = try #require(files[0].validation), dynamicValidation = try #require(files[1].validation)
    #expect(FixedBatchFixtures.relativeDifference(fixedValidation.loss, dynamicValidation.loss) < 1e-3)
    #expect(fixedValidation.accuracy == dynamicValidation.accuracy)
    let (fixed, dynamic) = (files[0], files[1])
    #expect(fixed.plan?.groups.map(\.candidate) == dynamic.plan?.groups.map(\.candidate))
    #expect(fixed.plan?.groups.map(\.macs) == dynamic.plan?.groups.map(\.macs))
    #expect(fixed.costs == dynamic.costs)
    #expect(FixedBatchFixtures.relativeDifference(fixed.fp32Loss, dynamic.fp32Loss) < 1e-4)
    let measured = try #require(fixed.measuredLoss), expected = try #require(dynamic.measuredLoss)
    #expect(FixedBatchFixtures.relativeDifference(measured, expected) < 1e-3)
    #expect(fixed.uniform.count == dynamic.uniform.count)
    for (a, b) in zip(fixed.uniform, dynamic.uniform) {
        #expect(FixedBatchFixtures.relativeDifference(try #require(a.measuredLoss), try #require(b.measuredLoss)) < 1e-3, "\(a.label)")
    }
}

/// `mpq inspect` compiles a transformer with a static batch of 8 (Reshapes with the 8 baked in) at its declared
/// shapes and reports MACs per sample; `mpq eval` runs it on 10 samples (a full and a padded batch) as ONNX Runtime does.
@Test func fixedBatchTransformerInspectsAndEvaluates() throws {
    let model = FixedBatchFixtures.path("bert_batch8.onnx")
    let report = try InspectCommand.makeReport(model: model)
    #expect(report.inputs["input_ids"] == [8, 6])
    #expect(report.layers.filter { $0.opType == "MatMul" }.allSatisfy { $0.outputShape.first == 8 })
    // Per sample: 6 tokens through the weighted MatMuls 16→48, 16→16, 16→32 and 32→16; two heads of 6×6×8
    // for the scores and again for the context.
    let weighted = report.layers.filter { $0.opType == "MatMul" && $0.weightShape != nil }.map(\.macs).reduce(0, +)
    #expect(weighted == 6 * (16 * 48 + 16 * 16 + 16 * 32 + 32 * 16))
    #expect(report.totalMACs == weighted + 2 * (2 * 6 * 6 * 8))
    #expect(runMPQ(["inspect", model]).code == 0)

    let saved = Paths.temporary("fixed-batch-bert.npy")
    let r = runMPQ(["eval", model, "--data", FixedBatchFixtures.path("bert_inputs.npy"), "--save-outputs", saved.path])
    #expect(r.code == 0, "\(r.message)")
    let out = try NumpyArray(contentsOf: saved).tensor
    let reference = try NumpyArray(contentsOf: URL(fileURLWithPath: FixedBatchFixtures.path("bert_reference.npy"))).tensor
    #expect(out.shape == [10, 16])
    #expect(FixedBatchFixtures.maxDifference(out, reference) < 1e-4)
}

/// A fixed-batch model whose data differs on a non-batch axis keeps the clear shape error.
@Test func fixedBatchNonBatchAxisMismatchIsRefused() throws {
    let bad = Paths.temporary("fixed-batch-9x9.npy")
    try NPYWriter.write(Tensor(shape: [3, 1, 9, 9], floats: [Float](repeating: 0.5, count: 243)), to: bad)
    let r = runMPQ(["eval", FixedBatchFixtures.path("digits_batch1.onnx"), "--data", bad.path])
    #expect(r.code != 0)
    #expect(r.message.contains(bad.path) && r.message.contains("'input' expects float32 [N, 1, 8, 8]")
            && r.message.contains("[3, 1, 9, 9]"), "\(r.message)")
    let q = runMPQ(["quantize", FixedBatchFixtures.path("digits_batch4.onnx"), "--calib", bad.path, "--bits", "W8A8",
                    "-o", Paths.temporary("fixed-batch-bad-steps.json").path])
    #expect(q.code != 0 && q.message.contains("[N, 1, 8, 8]"), "\(q.message)")
}

import Foundation
import MPQLAPQ
import MPQPlanner
@testable import MPQPlanning
import MPQReport
import MPQSensitivity
import Testing

/// The whole pipeline on digits with a stored (synthetic) sensitivity table and a fake measurer: phases end in
/// order, the plan meets its budget, the files are written from the typed result, and plan.json reads back as
/// the same plan file.
@Test func runWritesTheFilesFromTheTypedResult() throws {
    var request = try digitsRequest("run", validation: true)
    request.refinement = PlanRequest.Refinement(maxEvaluations: 8)
    let log = EventLog()
    var pipeline = try PlanPipeline(request: request, onEvent: log.handler)
    let table = try syntheticTable(for: pipeline)
    try table.save(to: try pipeline.sensitivityStore().url)
    pipeline.measurer = FakeMeasurer(real: pipeline.measurer(for: table))
    let result = try pipeline.run()
    #expect(log.phases == [.sensitivities, .proposals, .uniform, .pareto, .chosen, .refinement, .greedy])
    #expect(log.events.contains(.sensitivitiesReused(cache: try pipeline.sensitivityStore().url)))
    let measurement = try #require(result.measurement)
    #expect(measurement.cost <= 6 + 1e-9)
    #expect(!measurement.tensors.isEmpty && measurement.refinement != nil)
    #expect(measurement.refinement?.patience == PlanRequest.Refinement.cheapPassPatience, "digits' fit pass is far below 10 GMAC")
    #expect(measurement.refinement?.coordinateOrder == .graph, "digits' fit pass is far below 10 GMAC")
    let pareto = try #require(measurement.pareto)
    // The plan is the best measured proposal within the budget, wherever it was proposed.
    let withinBudget = pareto.points.filter { $0.cost <= 6 + 1e-9 }.compactMap(\.measuredLoss)
    let chosen = try #require(pareto.points.first { $0.assignment == result.plan.assignment })
    #expect(chosen.measuredLoss == withinBudget.min())
    // The plan's recorded loss is the one it was chosen by; the whole-model search's is recorded beside it (the
    // fake's losses are made up; its steps come from the real step search).
    #expect(measurement.loss == chosen.measuredLoss)
    #expect(try #require(measurement.stepSearchLoss) < 0.1)
    #expect(result.chosenLabel != nil)

    try result.write()
    let dir = request.outputDirectory
    for name in ["plan.json", "pareto.json", "pareto.csv", "pareto.svg", "report.html"] {
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name)")
    }
    let file = try PlanFile.load(dir.appendingPathComponent("plan.json").path)
    #expect(file.formatVersion == PlanFile.currentFormatVersion)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    #expect(try encoder.encode(file) == encoder.encode(PlanFile(result: result)))
    #expect(file.plan?.groups.map(\.candidate) == result.plan.candidateNames)
    #expect(file.uniform.allSatisfy { $0.candidates == nil } && file.pareto.allSatisfy { $0.candidates != nil })
    #expect(file.costs["bits"] == result.plan.costs[.averageWeightBits])
    #expect(Set(file.seconds?.keys.map { $0 } ?? []) == Set(PlanPhase.allCases.map(\.rawValue)))

    // The trade-off files carry the validation metrics, and the report shows the log axis and the accuracy panel.
    let curve = try TradeOffCurve(json: Data(contentsOf: dir.appendingPathComponent("pareto.json")))
    #expect(curve.points.filter { $0.series == .measured }.allSatisfy { $0.validationAccuracy == 0.9 })
    #expect(try #require(curve.reference.accuracy) > 0.9)
    let html = try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8)
    #expect(html.contains("log scale") && html.contains("Validation accuracy"))
}

/// Without measurement the plan is the ILP optimum and only plan.json is written.
@Test func noMeasurementWritesOnlyThePlan() throws {
    var request = try digitsRequest("run-unmeasured")
    request.measures = false
    let log = EventLog()
    var pipeline = try PlanPipeline(request: request, onEvent: log.handler)
    try syntheticTable(for: pipeline).save(to: try pipeline.sensitivityStore().url)
    let fake = FakeMeasurer()
    pipeline.measurer = fake
    let result = try pipeline.run()
    #expect(result.measurement == nil && fake.counter.count == 0)
    #expect(log.phases == [.sensitivities])
    try result.write()
    let file = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: request.outputDirectory.appendingPathComponent("plan.json")))
    #expect(file.measuredLoss == nil && file.tensors.isEmpty && file.chosenProposals == nil && file.seconds == nil)
    #expect(!FileManager.default.fileExists(atPath: request.outputDirectory.appendingPathComponent("pareto.json").path))
}

/// The plan's validation metrics are those of the steps it writes, evaluated as the QDQ export's model is (the
/// plan file's records as quantizers, int32 biases fitted from them), not those of the composed quantizers its
/// measurement ranked it by: with `searchesChosenPlan` the chosen plan keeps the whole-model search's steps when
/// they measure lower. Without it (the default) they are the composed quantizers, and no search loss is recorded.
@Test func planValidationIsOfTheStepsItWrites() throws {
    var keptOtherSteps = 0
    for (budget, searches) in [("4bits", true), ("5bits", true), ("7bits", true), ("5bits", false)] {
        var request = try digitsRequest("kept-validation-\(budget)-\(searches)", budget: budget, validation: true)
        request.paretoPoints = 0
        request.stepSearch = .bestP
        request.searchesChosenPlan = searches
        let pipeline = try PlanPipeline(request: request)
        let result = try pipeline.run()
        let measurement = try #require(result.measurement)
        let quantizers = measurement.tensors.compactMap { TensorQuantizer(record: $0) }
        #expect(quantizers.count == measurement.tensors.count)
        let biases = BiasQuantization(graph: pipeline.prepared.graph)
        let exported = try #require(try pipeline.prepared.validation?.metrics(
            under: StepSearch.settings(quantizers, correctedBiases: [:], biases: biases)))
        let reported = try #require(measurement.validation)
        #expect(abs(reported.loss - exported.loss) <= 1e-9 * exported.loss, "\(budget): reported \(reported.loss), exported \(exported.loss)")
        let composed = try #require(measurement.proposalsAtBudget.first { $0.assignment == result.plan.assignment }?.validation)
        #expect((measurement.stepSearchLoss != nil) == searches)
        if !searches { #expect(composed.loss == reported.loss && measurement.tensors.allSatisfy { $0.multiplier == 1 }) }
        if composed.loss != reported.loss { keptOtherSteps += 1 }
    }
    // The composed quantizers' validation was another number at some budget, so the check can tell them apart.
    #expect(keptOtherSteps > 0)
}

/// The refinement's patience: by default 100 evaluations where a fit pass costs more than 10 GMAC and 60 below, the
/// count given, or none for a command-line 0.
@Test func refinementPatienceIsTheCountGiven() {
    typealias Patience = PlanRequest.Refinement.Patience
    #expect(Patience.automatic.evaluations(macsPerPass: 2e10) == 100)
    #expect(Patience.automatic.evaluations(macsPerPass: 1e9) == 60)
    #expect(Patience.evaluations(7).evaluations(macsPerPass: 1e9) == 7)
    #expect(Patience.unlimited.evaluations(macsPerPass: 2e10) == nil)
    #expect(Patience(count: nil) == .automatic && Patience(count: 0) == .unlimited && Patience(count: 12) == .evaluations(12))
}

/// The refinement visits its coordinates cheapest first when one pass over its fit samples costs more than 10 GMAC
/// (closed form), in the plan's order below; a pass's cost is every layer's MACs per sample times the samples.
@Test func refinementOrdersCoordinatesByTheEvaluationCost() throws {
    #expect(JointRefinement.coordinateOrder(macsPerPass: 1e9) == .graph)
    #expect(JointRefinement.coordinateOrder(macsPerPass: 2e10) == .cheapestFirst)
    let pipeline = try PlanPipeline(request: try digitsRequest("coordinate-order"))
    let perSample = pipeline.prepared.problem.groups.reduce(0) { $0 + $1.macs }
    #expect(perSample > 0)
    #expect(JointRefinement.macsPerPass(pipeline.workspace.session) == Double(perSample * 64))
}

/// A budget no plan can meet fails before the sensitivity sweep (from the costs alone), with the planner's message;
/// nothing is measured and no table or journal is started.
@Test func infeasibleBudgetFailsBeforeTheSweep() throws {
    let request = try digitsRequest("infeasible-early", budget: "2bits")
    try? FileManager.default.removeItem(at: request.cacheDirectory)
    let log = EventLog()
    let pipeline = try PlanPipeline(request: request, onEvent: log.handler)
    #expect {
        try pipeline.run()
    } throws: { error in
        "\(error)".contains("2bits") && "\(error)".contains("cheapest")
    }
    #expect(log.phases.isEmpty)
    #expect(!log.events.contains { if case .sensitivitiesStarted = $0 { true } else { false } })
    let store = try pipeline.sensitivityStore().url
    #expect(!FileManager.default.fileExists(atPath: store.path))
    #expect(!FileManager.default.fileExists(atPath: store.path + ".journal"))
}

/// Padded sentences (the tiny BERT's eight, 10–22 of 24 tokens) are reported as trimmed for calibration and
/// validation, with the positions run: batches of two, longest first, cut to 22+17+13+12 tokens.
@Test func trimmedPaddingIsReported() throws {
    let tiny = Paths.example("minilm/tiny")
    var request = try digitsRequest("run-trimmed-padding", budget: "60KB")
    request.model = tiny + "/model-opset17.onnx"
    request.calibration = [tiny + "/inputs.npz"]
    request.labels = nil
    request.validation = [tiny + "/inputs.npz"]
    request.loss = .cosineDistance
    request.batchSize = 4
    request.measures = false
    let log = EventLog()
    let pipeline = try PlanPipeline(request: request, onEvent: log.handler)
    try syntheticTable(for: pipeline).save(to: try pipeline.sensitivityStore().url)
    _ = try pipeline.run()
    let run = 2 * (22 + 17 + 13 + 12)
    #expect(log.events.filter { if case .paddingTrimmed = $0 { true } else { false } }
            == [.paddingTrimmed(data: "calibration", run: run, total: 8 * 24),
                .paddingTrimmed(data: "validation", run: run, total: 8 * 24)])
    #expect(try pipeline.sensitivityStore().description["settings"]?.hasSuffix(";paddingTrimmed") == true)
}

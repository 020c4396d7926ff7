import MPQExecutor
import MPQLAPQ
@testable import MPQPlanning
import MPQSensitivity
import Testing

/// The validation set's reference outputs are those of a plain batched FP32 run, and a plan validated from another
/// plan's validation activations (as the Pareto front's plans are, in lexicographic order) gets exactly the metrics
/// of a fresh validation run under its hooks, and those of a `BatchRunner` up to float rounding (the runner cuts each
/// batch into two sub-batches, `SubBatchPlan`). Batches of 48 leave a partial last batch.
@Test func validationFromAnotherPlanEqualsAFullRun() throws {
    var request = try digitsRequest("validation-reuse", validation: true)
    request.batchSize = 48
    let pipeline = try PlanPipeline(request: request)
    let validation = try #require(pipeline.prepared.validation)
    let graph = pipeline.prepared.graph
    let output = validation.objective.outputName
    let runner = try BatchRunner(graph: graph, sampleShapes: validation.data.sampleShapes,
                                 sampleCount: validation.data.sampleCount, batchSize: 48)
    let plain = try #require(try runner.run(validation.data.inputs)[output])
    let reference = validation.objective.reference
    let scale = reference.asFloats.map(abs).max() ?? 1
    #expect(plain.shape == reference.shape)
    #expect(zip(plain.asFloats, reference.asFloats).allSatisfy { abs($0 - $1) <= 1e-6 * scale })

    let table = try pipeline.sensitivities()
    let problem = pipeline.prepared.problem
    let measurement = PlanMeasurement(grouping: pipeline.prepared.grouping, candidates: problem.candidates, search: pipeline.search)
    let uniform = problem.candidates.indices.map { c in
        problem.groups.indices.map { problem.effectiveAllowed($0).contains(c) ? c : problem.effectiveAllowed($0)[0] }
    }
    let mixed = problem.groups.indices.map { g in uniform[0].enumerated().map { $0.offset == g ? uniform[1][g] : $0.element } }
    let plans = (uniform + mixed).sorted { $0.lexicographicallyPrecedes($1) }
    let biases = pipeline.search.biases(in: graph)
    var last: CalibrationSession.State? = nil
    for plan in plans {
        let settings = StepSearch.settings(try #require(measurement.composedQuantizers(for: plan, table: table)), biases: biases)
        let (reused, state) = try validation.metrics(under: settings, from: last)
        last = state
        #expect(reused == (try validation.metrics(under: settings)), "\(plan)")
        let batched = try #require(try runner.run(validation.data.inputs, hooks: TensorHooks(settings))[output])
        let loss = try #require(reused?.loss), runnerLoss = try validation.objective.evaluate(batched)
        #expect(abs(loss - runnerLoss) <= 1e-5 * abs(runnerLoss) + 1e-12, "\(plan): \(loss) vs \(runnerLoss)")
    }
    #expect(Set(plans).count >= 5)
}

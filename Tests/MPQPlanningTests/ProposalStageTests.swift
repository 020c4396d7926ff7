import Foundation
import MPQPlanner
@testable import MPQPlanning
import MPQSensitivity
import Testing

/// Propose and measure with a fake measurer: the plan is the best *measured* proposal, not the ILP's optimum;
/// each distinct plan is measured once, and progress runs from 0 to the number of proposals.
@Test func proposalsAreMeasuredThroughTheMeasurerAndTheBestIsKept() throws {
    let log = EventLog()
    var pipeline = try PlanPipeline(request: try digitsRequest("proposals"), onEvent: log.handler)
    let fake = FakeMeasurer()
    pipeline.measurer = fake
    let setup = try PlannerSetup(problem: pipeline.prepared.problem, sensitivities: try syntheticTable(for: pipeline),
                                 request: pipeline.request)
    var measurements = PlanMeasurements(measurer: fake, storeURL: nil, key: "test")
    let atBudget = try pipeline.proposeAndMeasure(setup, measurements: &measurements)
    let count = atBudget.points.count
    #expect((2...4).contains(count))
    #expect(fake.counter.count == count)
    let best = atBudget.points.map { FakeMeasurer.loss($0.assignment) }.min()
    #expect(FakeMeasurer.loss(atBudget.plan.assignment) == best)
    #expect(atBudget.points.filter { $0.proposal?.selected == true }.map(\.assignment) == [atBudget.plan.assignment])
    #expect(atBudget.points.allSatisfy { setup.meetsBudgets(Plan(assignment: $0.assignment, model: setup.model)) })
    #expect(atBudget.points.allSatisfy { $0.validation?.accuracy == 0.9 && $0.proposal?.onFront == nil })
    #expect(atBudget.steps == nil)   // the fake finds no steps to keep
    let progress = log.events.compactMap { event -> Int? in
        if case .progress(.proposalsAtBudget(count), let done, count) = event { return done } else { return nil }
    }
    #expect(progress == Array(0...count))

    // Uniform points and a second measurement of a known plan do not measure again what is known.
    let uniform = try pipeline.uniformBaseline(setup, measurements: &measurements)
    #expect(uniform.map(\.label) == setup.problem.candidates.map(\.name))
    let measuredBefore = fake.counter.count
    _ = try measurements.measure(atBudget.plan.assignment)
    #expect(fake.counter.count == measuredBefore)
}

/// Measured plans persist in the store: a new measurement set on the same key measures nothing again.
@Test func measuredPlansAreStoredAndReused() throws {
    let url = Paths.temporary("measured-store").appendingPathComponent("measured.json")
    let fake = FakeMeasurer()
    var first = PlanMeasurements(measurer: fake, storeURL: url, key: "k")
    let m = try first.measure([0, 1, 2, 3])
    #expect(fake.counter.count == 1)
    var second = PlanMeasurements(measurer: fake, storeURL: url, key: "k")
    #expect(second.contains([0, 1, 2, 3]))
    #expect(try second.measure([0, 1, 2, 3]).loss == m.loss)
    #expect(fake.counter.count == 1)
    // Another key (other inputs) starts empty.
    #expect(!PlanMeasurements(measurer: fake, storeURL: url, key: "other").contains([0, 1, 2, 3]))
    // Another measurer's plans are stored apart; the step search keeps the key stores had before measurers existed.
    let directory = url.deletingLastPathComponent()
    let stepSearch = PlanMeasurements.store(in: directory, tableKey: "t", validation: nil)
    #expect(PlanMeasurements.store(in: directory, tableKey: "t", validation: nil, measurerTag: fake.storeTag).key != stepSearch.key)
    var legacy = ContentHash()
    legacy.combine("t")
    legacy.combine("measured-plans;v1")
    #expect(stepSearch.key == legacy.hex)
}

/// With a measurer that validates separately, the sweep measures every proposal's calibration loss but runs
/// validation only for the plans it reports with metrics: the measured front and the best plan in the budget; their
/// losses are not measured a second time, and the validation runs report progress.
@Test func paretoSweepValidatesOnlyTheFrontAndTheBest() throws {
    var pipeline = try PlanPipeline(request: try digitsRequest("lazy-validation", validation: true))
    var fake = FakeMeasurer()
    fake.validatesSeparately = true
    pipeline.measurer = fake
    let setup = try PlannerSetup(problem: pipeline.prepared.problem, sensitivities: try syntheticTable(for: pipeline),
                                 request: pipeline.request)
    var measurements = PlanMeasurements(measurer: fake, storeURL: nil, key: "test")
    let atBudget = try pipeline.proposeAndMeasure(setup, measurements: &measurements)
    let before = Set(fake.counter.validated)
    let log = EventLog()
    pipeline.onEvent = log.handler
    let pareto = try pipeline.paretoSweep(setup, own: atBudget.proposals, measurements: &measurements)
    let validated = Set(fake.counter.validated)
    let front = pareto.points.filter { $0.proposal?.onFront == true }
    #expect(!front.isEmpty && front.allSatisfy { validated.contains($0.assignment) && $0.validation != nil })
    if let best = pareto.best { #expect(validated.contains(best.plan.assignment)) }
    let reported = Set(front.map(\.assignment) + (pareto.best.map { [$0.plan.assignment] } ?? [])).union(before)
    #expect(validated == reported)
    #expect(pareto.points.filter { !reported.contains($0.assignment) }.allSatisfy { $0.validation == nil && $0.measuredLoss != nil })
    #expect(validated.count < pareto.points.count)
    #expect(fake.counter.validationOnly == validated.subtracting(before).count && fake.counter.validationOnly > 0)
    #expect(fake.counter.count == Set(pareto.points.map(\.assignment)).union(before).count)
    let progress = log.events.compactMap { event -> Int? in
        if case .progress(.frontValidation, let done, let total) = event, total == fake.counter.validationOnly { return done } else { return nil }
    }
    #expect(progress.first == 0 && progress.last == fake.counter.validationOnly)

    // The event counts the plans measured before the sweep: the proposals at the budget here; all of them when the
    // sweep runs again on the same measurements (and nothing is measured again).
    let distinct = Set(pareto.points.map(\.assignment))
    let expected = distinct.intersection(atBudget.points.map(\.assignment)).count
    #expect(expected > 0 && log.events.contains { event in
        if case .paretoMeasured(_, _, distinct.count, expected, _) = event { return true } else { return false }
    })
    let measuredCount = fake.counter.count
    let again = EventLog()
    pipeline.onEvent = again.handler
    _ = try pipeline.paretoSweep(setup, own: atBudget.proposals, measurements: &measurements)
    #expect(fake.counter.count == measuredCount)
    #expect(again.events.contains { event in
        if case .paretoMeasured(_, _, distinct.count, distinct.count, _) = event { return true } else { return false }
    })
}

/// The composed measurer's validation run alone gives the metrics its whole measurement does.
@Test func composedValidationAloneEqualsTheMeasurement() throws {
    let pipeline = try PlanPipeline(request: try digitsRequest("composed-validation", validation: true))
    let table = try pipeline.sensitivities()
    var measurer = pipeline.measurer(for: table)
    #expect(measurer.validatesSeparately)
    let allowed = pipeline.prepared.problem.groups.map(\.allowedCandidates)
    for plan in [allowed.enumerated().map { $1[$0 % $1.count] }, allowed.enumerated().map { $1[($0 + 1) % $1.count] }] {
        let whole = try measurer.measure(plan)
        let alone = try measurer.validation(plan)
        #expect(alone != nil && alone == whole.validation)
        #expect(try measurer.loss(plan).loss == whole.loss)
    }
}

/// The composed measurer re-runs each plan from the previous plan's activations (`measureAll` orders them so that
/// neighbours share their first groups): every loss equals a full evaluation of the same quantizers, in any order,
/// on one worker or two.
@Test func composedPlansMeasuredFromTheLastPlanEqualFullRuns() throws {
    let pipeline = try PlanPipeline(request: try digitsRequest("composed-reruns"))
    let table = try pipeline.sensitivities()
    let problem = pipeline.prepared.problem
    // Plans that share prefixes of different lengths, given out of order.
    let groups = problem.groups.count, candidates = problem.candidates.count
    var plans: [[Int]] = []
    for k in 0..<10 {
        plans.append((0..<groups).map { g in g < k % groups ? 0 : (g * 7 + k * 3) % candidates })
    }
    plans = plans.filter { plan in plan.indices.allSatisfy { problem.effectiveAllowed($0).contains(plan[$0]) } }
    #expect(plans.count >= 4)
    guard let composed = pipeline.measurer(for: table) as? ComposedMeasurer else {
        Issue.record("the default measurer is not the composed one"); return
    }
    let full = try plans.map { plan -> Double in
        try composed.measurement.composedLoss(composed.quantizers(for: plan)!, session: pipeline.workspace.session)
    }
    for threads in [1, 2] {
        var measurements = PlanMeasurements(measurer: composed, storeURL: nil, key: "reruns-\(threads)")
        try measurements.measureAll(plans, validating: false, threads: threads)
        #expect(plans.map { measurements[$0]!.loss } == full, "\(threads) thread(s)")
    }
}

import MPQLAPQ
import MPQPlanner

extension PlanPipeline {
    /// All stages: sensitivities and the ILP plan; with measurement, the proposals at the budget, uniform points,
    /// the Pareto sweep, the chosen plan's steps, refinement and the greedy baseline.
    public func run() throws -> PlanResult {
        var clock = PhaseClock(onEvent: onEvent)
        // A budget no plan can meet is known from the costs: say so before the sweep (minutes on a real model).
        try PlannerSetup.checkBudgets(of: prepared.problem, request: request)
        for (data, session) in [("calibration", workspace.session), ("validation", prepared.validation?.session)] {
            if let trimmed = session?.trimmedPositions { onEvent(.paddingTrimmed(data: data, run: trimmed.run, total: trimmed.total)) }
        }
        let table = try sensitivities()
        clock.lap(.sensitivities)
        let setup = try PlannerSetup(problem: prepared.problem, sensitivities: table, request: request)
        var result = PlanResult(request: request, prepared: prepared, problem: setup.problem, sensitivities: table,
                                bopsReference: setup.model.referenceDescription,
                                plan: try setup.plan(budgets: request.budgets, pins: request.pins), fp32Loss: setup.fp32Loss)
        guard request.measures else { return result }
        let measurer = measurer(for: table)
        let store = PlanMeasurements.store(in: request.cacheDirectory, tableKey: table.key, validation: prepared.validation?.data,
                                           measurerTag: measurer.storeTag)
        var measurements = PlanMeasurements(measurer: measurer, storeURL: store.url, key: store.key)
        (result.plan, result.measurement) = try measure(setup, measurements: &measurements, clock: &clock)
        return result
    }

    /// The measured stages after the sensitivities; the plan is the best measured proposal within the budgets.
    func measure(_ setup: PlannerSetup, measurements: inout PlanMeasurements,
                 clock: inout PhaseClock) throws -> (Plan, PlanResult.Measurement) {
        let atBudget = try proposeAndMeasure(setup, measurements: &measurements)
        clock.lap(.proposals)
        let uniform = try uniformBaseline(setup, measurements: &measurements)
        clock.lap(.uniform)
        var plan = atBudget.plan
        var pareto: ParetoMeasurement? = nil
        if request.paretoPoints > 0 {
            pareto = try paretoSweep(setup, own: atBudget.proposals, measurements: &measurements)
            if let best = pareto?.best, best.measuredLoss < measurements[plan.assignment]!.loss { plan = best.plan }
            clock.lap(.pareto)
        }
        let steps = try chosenSteps(plan.assignment, kept: atBudget.steps, measurements: &measurements)
        clock.lap(.chosen)
        let measured = measurements[plan.assignment]?.validation
        let validation = try measured.flatMap { measurements.measurer.validated(steps, for: plan.assignment) ? $0 : nil }
            ?? validation(of: steps)
        var refined: RefinedSteps? = nil
        if let settings = request.refinement {
            refined = try refine(steps, validationBefore: validation, settings: settings)
            clock.lap(.refinement)
        }
        let greedy = try greedyBaseline(pareto?.greedy ?? [], setup: setup, measurements: &measurements)
        if !greedy.isEmpty { clock.lap(.greedy) }
        // The refinement keeps the quantizers and scales their steps; without it every multiplier is the search's.
        let multipliers = refined?.multipliers ?? steps.multipliers
        // The whole-model search's own loss, when one ran on the chosen plan.
        let searched = (measurements.measurer as? ComposedMeasurer)?.searches(plan.assignment) ?? true
        let tensors = zip(steps.quantizers, multipliers).map { QuantizerRecord($0, multiplier: $1, group: prepared.groupName(of: $0.name)) }
        let measurement = PlanResult.Measurement(
            loss: measurements[plan.assignment]?.loss ?? steps.loss, stepSearchLoss: searched ? steps.report.lossAfterInitialization : nil,
            validation: validation, costKind: setup.costKind, cost: setup.cost(plan.assignment),
            proposalsAtBudget: atBudget.points, uniform: uniform, pareto: pareto, greedy: greedy, refinement: refined?.report,
            tensors: tensors, correctedBiases: refined?.correctedBiases ?? [:], seconds: clock.seconds)
        return (plan, measurement)
    }
}

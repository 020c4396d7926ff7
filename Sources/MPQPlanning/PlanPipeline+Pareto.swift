import MPQPlanner

extension PlanPipeline {
    /// Stage 5: the ILP's proposals at every budget value of the sweep, at the greedy baseline's costs and at the
    /// plan's own budget, each distinct plan measured once; the measured front is their lower envelope.
    public func paretoSweep(_ setup: PlannerSetup, own: BudgetProposals, measurements: inout PlanMeasurements) throws -> ParetoMeasurement {
        let sweep = ParetoSweep(planner: setup.planner, kind: setup.costKind, pointCount: request.paretoPoints,
                                fixedBudgets: Array(setup.budgets.dropFirst()), proposalCount: setup.proposalCount,
                                tieBreakProposal: setup.proposalTieBreak)
        let front = try sweep.run()
        // The greedy baseline is measured near each Pareto cost; the ILP also proposes plans at each greedy
        // point's own cost (unless a swept value is that cost already), so the two are compared at equal budgets.
        let greedy = Self.subsample(front.greedy, near: front.points.map(\.cost))
        var budgets = front.proposals
        for g in greedy {
            let limit = g.cost * (1 + 1e-9)
            guard !budgets.contains(where: { $0.limit >= g.cost && $0.limit <= limit }),
                  let extra = try? sweep.proposals(at: limit) else { continue }
            budgets.append(extra)
        }
        budgets.append(own)
        let distinct = Set(budgets.flatMap { $0.proposals.map(\.plan.assignment) })
        let measuredBefore = distinct.filter { measurements.contains($0, validated: false) }.count
        let curve = try measure(budgets, kind: setup.costKind, measurements: &measurements)
        // Validation runs only for the plans reported beside the front: the front itself and the best plan.
        let best = setup.proposalCount > 1
            ? curve.entries.filter { setup.meetsBudgets($0.plan) }.min { ($0.measuredLoss, $0.cost) < ($1.measuredLoss, $1.cost) } : nil
        let reported = curve.front.map(\.plan.assignment) + (best.map { [$0.plan.assignment] } ?? [])
        let report = onEvent
        try measurements.measureAll(reported) { report(.progress(.frontValidation, done: $0, total: $1)) }
        let points = curve.entries.enumerated().map { i, e in
            PlanPoint(e, label: "plan \(i + 1)", fp32Loss: setup.fp32Loss, validation: measurements[e.plan.assignment]?.validation)
        }
        onEvent(.paretoMeasured(proposals: curve.proposalCount, budgets: budgets.count, plans: curve.entries.count,
                                measuredBefore: measuredBefore, onFront: curve.front.count))
        // With several proposals, any measured proposal that meets every budget may be the plan (ties keep the cheaper one).
        return ParetoMeasurement(points: points, proposalCount: curve.proposalCount, budgetCount: budgets.count, greedy: greedy, best: best)
    }

    /// Measures every distinct proposal of `budgets` not measured before, reporting progress over those.
    private func measure(_ budgets: [BudgetProposals], kind: CostKind, measurements: inout PlanMeasurements) throws -> MeasuredFront {
        let assignments = budgets.flatMap { $0.proposals.map(\.plan.assignment) }
        let report = onEvent
        try measurements.measureAll(assignments, validating: false) { report(.progress(.paretoProposals, done: $0, total: $1)) }
        return try MeasuredFront(kind: kind, budgets: budgets) { assignment in
            guard let m = measurements[assignment] else { throw InputProblem("plan \(assignment) was not measured") }
            return m.loss
        }
    }

    /// At most one greedy point per target cost: the cheapest one at or below it.
    static func subsample(_ points: [ParetoPoint], near costs: [Double]) -> [ParetoPoint] {
        var chosen: [ParetoPoint] = []
        for cost in costs {
            if let p = points.filter({ $0.cost <= cost * (1 + 1e-9) }).max(by: { $0.cost < $1.cost }),
               !chosen.contains(where: { $0.plan.assignment == p.plan.assignment }) {
                chosen.append(p)
            }
        }
        return chosen.sorted { $0.cost < $1.cost }
    }
}

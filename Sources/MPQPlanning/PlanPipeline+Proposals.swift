import MPQLAPQ
import MPQPlanner

extension PlanPipeline {
    /// Stage 3: the ILP's best plans at the request's budgets (and the tie-break's), each measured; the best
    /// measured one is the plan unless the Pareto sweep finds a better one within the budgets.
    public func proposeAndMeasure(_ setup: PlannerSetup, measurements: inout PlanMeasurements) throws -> BudgetMeasurement {
        let proposals = try setup.planner.proposals(budgets: setup.budgets, count: setup.proposalCount,
                                                    tieBreak: setup.proposalTieBreak)
        let own = BudgetProposals(limit: setup.limits[0].limit, proposals: proposals)
        let task = PlanEvent.Task.proposalsAtBudget(count: proposals.count)
        onEvent(.progress(task, done: 0, total: proposals.count))
        var done = 0
        var kept: (assignment: [Int], result: StepSearchResult)? = nil
        let front = try MeasuredFront(kind: setup.costKind, budgets: [own]) { assignment in
            let m = try measurements.measure(assignment)
            if let steps = m.steps, kept.map({ steps.loss < $0.result.loss }) ?? true { kept = (assignment, steps) }
            done += 1
            onEvent(.progress(task, done: done, total: proposals.count))
            return m.loss
        }
        let selection = front.selections[0]
        let points = selection.proposals.enumerated().map { n, i -> PlanPoint in
            let entry = front.entries[i]
            var p = PlanPoint(entry, label: "proposal \(n + 1)", fp32Loss: setup.fp32Loss,
                              validation: measurements[entry.plan.assignment]?.validation)
            p.proposal?.onFront = nil
            return p
        }
        return BudgetMeasurement(proposals: own, plan: front.entries[selection.entry].plan, points: points, steps: kept)
    }
}

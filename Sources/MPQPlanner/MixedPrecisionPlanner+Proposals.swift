/// A plan the integer program proposes at one budget, for a measurement of the real loss to decide among.
public struct Proposal: Sendable, Equatable {
    public var plan: Plan
    /// Position among the best plans by predicted loss (0: the ILP optimum, 1: the second best, ...); nil when
    /// only the tie-break proposed it.
    public var rank: Int?
    /// Whether the tie-break (the lowest tie-break cost among plans within its loss tolerance) proposed it.
    public var tieBroken: Bool

    public init(plan: Plan, rank: Int?, tieBroken: Bool = false) {
        self.plan = plan
        self.rank = rank
        self.tieBroken = tieBroken
    }
}

extension MixedPrecisionPlanner {
    /// The `count` best distinct plans under `budgets` by predicted loss, best first.
    ///
    /// k-best by no-good cuts: after each solve the row Σ_g x[g, chosen(g)] ≤ G − 1 (G groups, each with exactly
    /// one candidate chosen) excludes exactly the assignment just found, and GLPK solves again. Tied groups need
    /// nothing special: their choices are equal in every feasible assignment. Returns fewer plans when fewer are
    /// feasible. Throws `PlanningError.infeasible` (with the cheapest achievable value of every budget) when none is.
    /// A solve stopped by `options` (time limit, gap) yields a plan with `provenOptimal == false`; the order of
    /// the later plans is then only as good as those solves.
    public func bestPlans(budgets: [BudgetConstraint], count: Int, options: SolverOptions = SolverOptions()) throws -> [Plan] {
        guard count >= 1 else { throw PlanningError.invalidSweep("the number of proposals must be at least 1, got \(count)") }
        let (limits, shortfalls) = try checkedLimits(budgets)
        let (program, variables) = buildProgram(limits: limits)
        let solver: GLPKSolver
        do {
            solver = try GLPKSolver(program: program)
        } catch {
            throw PlanningError.solverFailed("\(error)")
        }
        let groupCount = problem.groups.count
        var plans: [Plan] = []
        while plans.count < count {
            let values: [Double], proven: Bool
            switch solver.solve(options: options) {
            case .optimal(_, let v):
                (values, proven) = (v, true)
            case .feasible(_, let v, _):
                (values, proven) = (v, false)
            case .infeasible:
                if plans.isEmpty { throw PlanningError.infeasible(shortfalls: shortfalls, jointly: true) }
                return plans
            case .unbounded:
                throw PlanningError.solverFailed("GLPK reported an unbounded problem, which a 0-1 program cannot be")
            case .error(let e):
                throw PlanningError.solverFailed(e.description)
            }
            let assignment = decode(values, variables)
            // A repeat means the cut did not hold (only possible through solver tolerances): stop rather than loop.
            guard !plans.contains(where: { $0.assignment == assignment }) else { return plans }
            plans.append(Plan(assignment: assignment, model: model, provenOptimal: proven))
            if plans.count == count { break }
            // The columns of the chosen x[g,c] exist by construction (decode found them); addConstraint checks again.
            let terms = assignment.enumerated().map { g, c in IntegerProgram.Term(variables[g][c]!, 1) }
            do {
                try solver.addConstraint(.lessOrEqual(terms, Double(groupCount - 1), name: "exclude plan \(plans.count)"))
            } catch {
                throw PlanningError.solverFailed("\(error)")
            }
        }
        return plans
    }

    /// The plans measurement chooses among at one budget.
    ///
    /// - `count == 1` and no `tieBreak`: `plan(budgets:)` alone (the optimum, or the planner's own tie-broken plan
    ///   when `self.tieBreak` is set), as a single proposal — the behaviour without proposals.
    /// - otherwise: the `count` best plans by predicted loss (`bestPlans`, which ignores `self.tieBreak`), and, when
    ///   `tieBreak` is given, the plan with the lowest `tieBreak.cost` among those within its tolerance of the
    ///   optimum: appended when distinct, else the equal proposal is marked `tieBroken`.
    public func proposals(budgets: [BudgetConstraint], count: Int, tieBreak: TieBreak? = nil,
                          options: SolverOptions = SolverOptions()) throws -> [Proposal] {
        guard count >= 1 else { throw PlanningError.invalidSweep("the number of proposals must be at least 1, got \(count)") }
        if count == 1 && tieBreak == nil {
            let plan = try plan(budgets: budgets, options: options)
            return [Proposal(plan: plan, rank: self.tieBreak == nil ? 0 : nil, tieBroken: self.tieBreak != nil)]
        }
        let plans = try bestPlans(budgets: budgets, count: count, options: options)
        var result = plans.enumerated().map { Proposal(plan: $1, rank: $0) }
        guard let tieBreak, model.supports(tieBreak.cost), plans[0].provenOptimal else { return result }
        let (limits, _) = try checkedLimits(budgets)
        let (program, variables) = buildProgram(limits: limits)
        let broken = breakTie(plans[0], program: program, variables: variables, tieBreak: tieBreak, options: options)
        if let i = result.firstIndex(where: { $0.plan.assignment == broken.assignment }) {
            result[i].tieBroken = true
        } else {
            result.append(Proposal(plan: broken, rank: nil, tieBroken: true))
        }
        return result
    }
}

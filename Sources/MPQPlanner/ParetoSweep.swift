import Foundation

/// One plan on a cost / predicted-loss curve.
public struct ParetoPoint: Sendable, Equatable {
    public var plan: Plan
    /// The plan's cost in the swept kind's reported units.
    public var cost: Double
    public var predictedLoss: Double
    /// The loss measured by running the quantized model; filled in by the caller.
    public var measuredLoss: Double?
    /// The budget the point was solved under (nil for greedy points).
    public var budgetLimit: Double?

    public init(plan: Plan, cost: Double, predictedLoss: Double, measuredLoss: Double? = nil, budgetLimit: Double? = nil) {
        self.plan = plan
        self.cost = cost
        self.predictedLoss = predictedLoss
        self.measuredLoss = measuredLoss
        self.budgetLimit = budgetLimit
    }
}

/// The plans the ILP proposed at one budget value of a sweep.
public struct BudgetProposals: Sendable, Equatable {
    /// The swept budget's limit, in the swept kind's reported units.
    public var limit: Double
    /// Best predicted first (see `MixedPrecisionPlanner.proposals`); never empty.
    public var proposals: [Proposal]

    public init(limit: Double, proposals: [Proposal]) {
        self.limit = limit
        self.proposals = proposals
    }
}

/// The result of a sweep: the ILP's non-dominated plans and the greedy baseline, both sorted by cost.
public struct ParetoFront: Sendable, Equatable {
    public var kind: CostKind
    /// Non-dominated ILP plans (the first proposal of each budget): cost increasing, predicted loss strictly decreasing.
    public var points: [ParetoPoint]
    /// Every feasible target's proposals, in target order (one proposal each when `proposalCount` is 1).
    public var proposals: [BudgetProposals] = []
    /// AIMET-style greedy points in the order they were applied (cost decreasing from the top candidate).
    public var greedy: [ParetoPoint]
    /// The swept budget limits.
    public var targets: [Double]
    /// How many targets gave a distinct plan before domination was removed.
    public var distinctPlans: Int
}

/// Sweeps one budget kind from the cheapest to the most expensive achievable value and solves the planner at
/// each point; also builds the AIMET-style greedy baseline for comparison.
public struct ParetoSweep: Sendable {
    public var planner: MixedPrecisionPlanner
    public var kind: CostKind
    /// Number of budget values (at least 1; 1 solves only the most expensive value).
    public var pointCount: Int
    /// Budgets applied at every point in addition to the swept one (e.g. a latency cap while sweeping bits).
    public var fixedBudgets: [BudgetConstraint]
    public var options: SolverOptions
    /// Plans proposed per budget value: the k best by predicted loss (1: the optimum alone).
    public var proposalCount: Int
    /// When set, each budget value also proposes the tie-broken plan (see `MixedPrecisionPlanner.proposals`).
    public var tieBreakProposal: MixedPrecisionPlanner.TieBreak?

    public init(planner: MixedPrecisionPlanner, kind: CostKind, pointCount: Int = 20, fixedBudgets: [BudgetConstraint] = [],
                options: SolverOptions = SolverOptions(), proposalCount: Int = 1,
                tieBreakProposal: MixedPrecisionPlanner.TieBreak? = nil) {
        self.planner = planner
        self.kind = kind
        self.pointCount = pointCount
        self.fixedBudgets = fixedBudgets
        self.options = options
        self.proposalCount = proposalCount
        self.tieBreakProposal = tieBreakProposal
    }

    /// The proposals at one value of the swept budget (with the fixed budgets). Throws `PlanningError.infeasible`
    /// when no plan meets them.
    public func proposals(at limit: Double) throws -> BudgetProposals {
        let budgets = fixedBudgets + [BudgetConstraint(kind: kind, limit: limit)]
        return BudgetProposals(limit: limit, proposals: try planner.proposals(budgets: budgets, count: proposalCount,
                                                                              tieBreak: tieBreakProposal, options: options))
    }

    /// Runs the sweep. Points infeasible under the fixed budgets are skipped; if none is feasible the error of
    /// the most expensive point is thrown.
    public func run() throws -> ParetoFront {
        guard pointCount >= 1 else { throw PlanningError.invalidSweep("the number of points must be at least 1, got \(pointCount)") }
        guard proposalCount >= 1 else { throw PlanningError.invalidSweep("the number of proposals must be at least 1, got \(proposalCount)") }
        let model = planner.model
        guard model.supports(kind) else {
            throw PlanningError.budgetUnavailable(budget: kind.rawValue, reason: "hardware profile '\(model.profile.name)' has no latency model")
        }
        let lo = planner.cheapest(kind).value, hi = planner.mostExpensive(kind).value
        let targets: [Double] = pointCount == 1 ? [hi] : (0..<pointCount).map { i in
            i == pointCount - 1 ? hi : lo + (hi - lo) * Double(i) / Double(pointCount - 1)
        }
        var seen = Set<[Int]>()
        var solved: [ParetoPoint] = []
        var proposed: [BudgetProposals] = []
        var lastError: Error?
        for target in targets {
            do {
                let point = try proposals(at: target)
                proposed.append(point)
                let plan = point.proposals[0].plan
                if seen.insert(plan.assignment).inserted {
                    solved.append(ParetoPoint(plan: plan, cost: plan.costs[kind]!, predictedLoss: plan.predictedLoss, budgetLimit: target))
                }
            } catch let error as PlanningError {
                if case .infeasible = error { lastError = error; continue }
                throw error
            }
        }
        if solved.isEmpty, let lastError { throw lastError }
        return ParetoFront(kind: kind, points: ParetoSweep.nonDominated(solved), proposals: proposed, greedy: greedyBaseline(),
                           targets: targets, distinctPlans: solved.count)
    }

    /// The points no other point beats on both cost and predicted loss, sorted by cost (loss strictly decreasing).
    public static func nonDominated(_ points: [ParetoPoint]) -> [ParetoPoint] {
        let sorted = points.sorted { ($0.cost, $0.predictedLoss) < ($1.cost, $1.predictedLoss) }
        var front: [ParetoPoint] = []
        for p in sorted {
            if let last = front.last, p.predictedLoss >= last.predictedLoss - 1e-12 * max(1, abs(last.predictedLoss)) { continue }
            front.append(p)
        }
        return front
    }

    /// AIMET-style greedy curve: every tie component starts at its most expensive usable candidate (the
    /// "highest" precision); then each cheaper (component, candidate) move is ranked by sensitivity increase per
    /// unit of cost saved (most robust first) and applied cumulatively, skipping moves that are no longer
    /// cheaper than the component's current choice. The first point is the starting plan. Ignores fixed budgets.
    public func greedyBaseline() -> [ParetoPoint] {
        let model = planner.model, problem = planner.problem
        let components = problem.components()
        func cost(_ k: Int, _ c: Int) -> Double { components[k].reduce(0.0) { $0 + model.cost(kind, group: $1, candidate: c) } }
        func loss(_ k: Int, _ c: Int) -> Double { components[k].reduce(0.0) { $0 + problem.sensitivities[$1][c]! } }
        var current = components.indices.map { k in
            problem.componentAllowed(components[k]).min { (-cost(k, $0), loss(k, $0)) < (-cost(k, $1), loss(k, $1)) }!
        }
        struct Move { var component: Int; var candidate: Int; var ratio: Double }
        var moves: [Move] = []
        for k in components.indices {
            let start = current[k]
            for c in problem.componentAllowed(components[k]) where cost(k, c) < cost(k, start) {
                moves.append(Move(component: k, candidate: c, ratio: (loss(k, c) - loss(k, start)) / (cost(k, start) - cost(k, c))))
            }
        }
        moves.sort { ($0.ratio, $0.component, $0.candidate) < ($1.ratio, $1.component, $1.candidate) }
        func point() -> ParetoPoint {
            var assignment = [Int](repeating: 0, count: problem.groups.count)
            for (k, component) in components.enumerated() { for g in component { assignment[g] = current[k] } }
            let plan = Plan(assignment: assignment, model: model)
            return ParetoPoint(plan: plan, cost: plan.costs[kind]!, predictedLoss: plan.predictedLoss)
        }
        var points = [point()]
        for move in moves where cost(move.component, move.candidate) < cost(move.component, current[move.component]) {
            current[move.component] = move.candidate
            points.append(point())
        }
        return points
    }
}

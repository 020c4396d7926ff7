import MPQPlanner
import MPQSensitivity

/// The integer program of a plan once sensitivities are known: the planner, how many plans it proposes per
/// budget and with which tie-break, and the budget limits in planner units.
public struct PlannerSetup: Sendable {
    /// The planning problem with the (regularized) sensitivities, without pins (the uniform points use it).
    public var problem: PlanningProblem
    /// The candidate of each pinned group (group index → candidate index).
    public var pinned: [Int: Int]
    public var planner: MixedPrecisionPlanner
    /// Plans proposed per budget value.
    public var proposalCount: Int
    /// The BOPs tie-break's extra proposal per budget value, when several are proposed.
    public var proposalTieBreak: MixedPrecisionPlanner.TieBreak?
    /// The budgets and their limits, in order; the first one's kind is the trade-off axis.
    public var budgets: [BudgetConstraint]
    public var limits: [(kind: CostKind, limit: Double)]
    /// The FP32 calibration loss (predicted losses are increases over it).
    public var fp32Loss: Double

    /// The planner for `problem` with `sensitivities` and the request's proposal settings.
    public init(problem: PlanningProblem, sensitivities: SensitivityTable, request: PlanRequest) throws {
        var problem = problem
        problem.sensitivities = sensitivities.regularizedMatrix(precision: problem.candidates.map { ($0.weightBits, $0.activationBits) })
        pinned = try problem.resolve(request.pins)
        planner = try MixedPrecisionPlanner(problem: try problem.pinning(request.pins), profile: request.profile)
        let k = request.proposals
        // One proposal: the tie-break (off by default) replaces the optimum, as it always did. Several: the tie-broken
        // plan (1% by default) is one more proposal and measurement decides.
        if k == 1, let t = request.tieTolerance, t > 0 { planner.tieBreak = .init(cost: .bops, relativeTolerance: t) }
        let tolerance = k > 1 ? (request.tieTolerance ?? 0.01) : 0
        proposalTieBreak = tolerance > 0 && planner.model.supports(.bops) ? .init(cost: .bops, relativeTolerance: tolerance) : nil
        proposalCount = k
        self.problem = problem
        budgets = request.budgets
        let model = planner.model
        limits = try request.budgets.map { ($0.kind, try $0.limit(in: model)) }
        fp32Loss = sensitivities.referenceLoss
    }

    public var model: CostModel { planner.model }

    /// The ILP plan under `budgets`; an infeasible budget's message names the pins when there are any.
    public func plan(budgets: [BudgetConstraint], pins: [Pin]) throws -> Plan {
        try Self.plan(planner, budgets: budgets, pins: pins)
    }

    /// Throws what `plan` would when no plan meets the request's budgets with its pins, from the costs alone: with
    /// every candidate allowed, so a budget that passes here may still fail once sensitivities rule candidates out.
    public static func checkBudgets(of problem: PlanningProblem, request: PlanRequest) throws {
        let planner = try MixedPrecisionPlanner(problem: try problem.pinning(request.pins), profile: request.profile)
        _ = try plan(planner, budgets: request.budgets, pins: request.pins)
    }

    private static func plan(_ planner: MixedPrecisionPlanner, budgets: [BudgetConstraint], pins: [Pin]) throws -> Plan {
        do { return try planner.plan(budgets: budgets) } catch let error as PlanningError {
            guard !pins.isEmpty, case let .infeasible(shortfalls, _) = error else { throw error }
            let reason = shortfalls.filter { !$0.isMet }.map(\.message).joined(separator: "; ")
            throw PinError.infeasible(pins: pins, reason: reason.isEmpty ? "the budgets cannot be met together" : reason)
        }
    }
    /// The cost kind of the trade-off axis (the first budget's).
    public var costKind: CostKind { limits[0].kind }

    /// Whether `plan` meets every budget.
    public func meetsBudgets(_ plan: Plan) -> Bool {
        limits.allSatisfy { kind, limit in plan.costs[kind].map { $0 <= CostKind.withTolerance(limit) } ?? false }
    }

    /// The cost of `assignment` on the trade-off axis.
    public func cost(_ assignment: [Int]) -> Double { model.value(costKind, assignment: assignment) }
}

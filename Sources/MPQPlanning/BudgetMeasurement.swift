import MPQLAPQ
import MPQPlanner

/// The ILP's proposals at the plan's own budget, measured.
public struct BudgetMeasurement: Sendable {
    /// The proposals, as the Pareto sweep takes them (the plan's budget is one more point of the curve).
    public var proposals: BudgetProposals
    /// The best measured proposal.
    public var plan: Plan
    /// "proposal 1", ... in proposal order; `proposal.selected` marks the best.
    public var points: [PlanPoint]
    /// The steps of the best proposal measured in this stage, kept so the chosen plan need not be measured twice.
    public var steps: (assignment: [Int], result: StepSearchResult)?
}

import MPQPlanner

/// The measured Pareto sweep: every distinct ILP proposal over the swept budget values, measured.
public struct ParetoMeasurement: Sendable {
    /// Every measured proposal by cost ("plan 1", ...), with `proposal.onFront` marking the measured front.
    public var points: [PlanPoint]
    /// Proposals over all budget values, repeats included.
    public var proposalCount: Int
    /// Budget values proposed at (the swept ones, the greedy points' costs, the plan's own).
    public var budgetCount: Int
    /// The greedy baseline's plans near each swept cost, to be measured for comparison.
    public var greedy: [ParetoPoint]
    /// The best measured proposal that meets every budget (ties: the cheaper), when several are proposed per budget.
    public var best: MeasuredFront.Entry?
}

import MPQPlanner

/// A measured point of the trade-off: an ILP proposal, a uniform-precision plan or a greedy-baseline plan.
public struct PlanPoint: Sendable, Equatable {
    /// How the ILP proposed a plan.
    public struct Proposal: Sendable, Equatable {
        /// The budget limits (cost-kind units) whose proposals included this plan.
        public var budgetLimits: [Double]
        /// The best rank among the k best by predicted loss (0: an ILP optimum); nil when only the tie-break proposed it.
        public var rank: Int?
        /// Whether the BOPs tie-break proposed it.
        public var tieBroken: Bool
        /// Whether it measured best among the proposals of some budget.
        public var selected: Bool
        /// Whether it is on the measured Pareto front (nil at the plan's own budget, where no front is drawn).
        public var onFront: Bool?
    }

    /// "proposal 2", "plan 7", "W8A8", "greedy 3".
    public var label: String
    public var assignment: [Int]
    public var candidateNames: [String]
    /// On the trade-off axis, in planner units.
    public var cost: Double
    /// FP32 loss plus the sum of the plan's sensitivities.
    public var predictedLoss: Double
    public var measuredLoss: Double?
    /// False for a uniform point where some groups could not take the candidate and took the nearest allowed one.
    public var exact: Bool
    public var validation: ValidationMetrics?
    /// For ILP proposals: how they were proposed.
    public var proposal: Proposal?

    public init(label: String, assignment: [Int], candidateNames: [String], cost: Double, predictedLoss: Double,
                measuredLoss: Double?, exact: Bool = true, validation: ValidationMetrics? = nil, proposal: Proposal? = nil) {
        self.label = label
        self.assignment = assignment
        self.candidateNames = candidateNames
        self.cost = cost
        self.predictedLoss = predictedLoss
        self.measuredLoss = measuredLoss
        self.exact = exact
        self.validation = validation
        self.proposal = proposal
    }

    /// A measured ILP proposal; `predictedLoss` of the entry is an increase over `fp32Loss`.
    public init(_ entry: MeasuredFront.Entry, label: String, fp32Loss: Double, validation: ValidationMetrics?) {
        self.init(label: label, assignment: entry.plan.assignment, candidateNames: entry.plan.candidateNames, cost: entry.cost,
                  predictedLoss: fp32Loss + entry.predictedLoss, measuredLoss: entry.measuredLoss, validation: validation,
                  proposal: Proposal(budgetLimits: entry.budgetLimits, rank: entry.bestRank, tieBroken: entry.tieBroken,
                                     selected: entry.selected, onFront: entry.onFront))
    }
}

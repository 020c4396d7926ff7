/// The measured side of a sweep: every distinct plan the ILP proposed, measured once; the best measured proposal
/// at each budget; and the measured Pareto front, the lower envelope of all measured plans.
///
/// The additive sensitivities rank plans well when they differ by much, but not plans whose predicted losses are
/// close (interactions between quantizers are larger than the differences). So the ILP proposes several plans per
/// budget and measurement decides. Only ILP proposals enter: uniform or greedy plans are compared against the front,
/// never added to it (unless the ILP itself proposed the same assignment).
public struct MeasuredFront: Sendable, Equatable {
    /// One distinct measured plan.
    public struct Entry: Sendable, Equatable {
        public var plan: Plan
        /// In the swept kind's reported units.
        public var cost: Double
        public var predictedLoss: Double
        public var measuredLoss: Double
        /// The budget limits whose proposals included this plan, ascending.
        public var budgetLimits: [Double]
        /// Its best rank among the k best by predicted loss over those budgets (nil: only the tie-break proposed it).
        public var bestRank: Int?
        /// Whether the tie-break proposed it at some budget.
        public var tieBroken: Bool
        /// Whether it had the lowest measured loss among the proposals of some budget.
        public var selected: Bool
        /// Whether it is on the measured front: no other measured plan costs no more with a lower loss, or costs
        /// less with an equal loss (of plans equal in both, the first in cost order is on the front).
        public var onFront: Bool
    }

    /// One budget value and its best measured proposal.
    public struct Selection: Sendable, Equatable {
        public var limit: Double
        /// Index into `entries`.
        public var entry: Int
        /// Indices into `entries` of all of this budget's proposals, in proposal order.
        public var proposals: [Int]
    }

    public var kind: CostKind
    /// Every distinct measured plan, by cost (then measured loss).
    public var entries: [Entry]
    /// One per budget, in the order given.
    public var selections: [Selection]
    /// Proposals over all budgets, repeats included.
    public var proposalCount: Int

    /// The measured front, by cost (measured loss strictly falling).
    public var front: [Entry] { entries.filter(\.onFront) }

    /// Measures each distinct proposed assignment once (in budget order, then proposal order) with `measure`, picks
    /// the best measured proposal per budget (ties: the earlier proposal) and marks the lower envelope. Costs come
    /// from `kind`; a plan without a cost of that kind is an error of the caller (it traps).
    public init(kind: CostKind, budgets: [BudgetProposals], measure: ([Int]) throws -> Double) rethrows {
        self.kind = kind
        var order: [[Int]] = []
        var byAssignment: [[Int]: Entry] = [:]
        for budget in budgets {
            for proposal in budget.proposals {
                let a = proposal.plan.assignment
                if var e = byAssignment[a] {
                    if !e.budgetLimits.contains(budget.limit) { e.budgetLimits.append(budget.limit) }
                    if let r = proposal.rank { e.bestRank = min(e.bestRank ?? r, r) }
                    e.tieBroken = e.tieBroken || proposal.tieBroken
                    byAssignment[a] = e
                    continue
                }
                let loss = try measure(a)
                order.append(a)
                byAssignment[a] = Entry(plan: proposal.plan, cost: proposal.plan.costs[kind]!, predictedLoss: proposal.plan.predictedLoss,
                                        measuredLoss: loss, budgetLimits: [budget.limit], bestRank: proposal.rank,
                                        tieBroken: proposal.tieBroken, selected: false, onFront: false)
            }
        }
        proposalCount = budgets.reduce(0) { $0 + $1.proposals.count }
        var entries = order.map { byAssignment[$0]! }
        for i in entries.indices { entries[i].budgetLimits.sort() }
        let sortedIndices = entries.indices.sorted {
            (entries[$0].cost, Self.key(entries[$0].measuredLoss), $0) < (entries[$1].cost, Self.key(entries[$1].measuredLoss), $1)
        }
        entries = sortedIndices.map { entries[$0] }
        let position = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.plan.assignment, $0) })
        selections = budgets.map { budget in
            let indices = budget.proposals.map { position[$0.plan.assignment]! }
            let best = indices.min { Self.key(entries[$0].measuredLoss) < Self.key(entries[$1].measuredLoss) }!
            return Selection(limit: budget.limit, entry: best, proposals: indices)
        }
        for s in selections { entries[s.entry].selected = true }
        let onFront = Self.lowerEnvelope(entries.map { (cost: $0.cost, loss: $0.measuredLoss) })
        for i in entries.indices { entries[i].onFront = onFront[i] }
        self.entries = entries
    }

    /// The first entry with this assignment, if it was measured.
    public func entry(for assignment: [Int]) -> Entry? {
        entries.first { $0.plan.assignment == assignment }
    }

    /// Which points are on the lower envelope: no other point has cost no higher (within a relative `costTolerance`)
    /// and a lower loss, or a clearly lower cost and an equal loss. Of points equal in cost and loss, only the first
    /// (in the given order) is on it. NaN losses count as +infinity and are never on the envelope.
    public static func lowerEnvelope(_ points: [(cost: Double, loss: Double)], costTolerance: Double = 1e-9) -> [Bool] {
        points.indices.map { i in
            let p = points[i]
            guard !p.loss.isNaN else { return false }
            let slack = costTolerance * max(1, abs(p.cost))
            return !points.indices.contains { j in
                guard j != i, !points[j].loss.isNaN else { return false }
                let q = points[j]
                guard q.cost <= p.cost + slack else { return false }
                if q.loss < p.loss { return true }
                guard q.loss == p.loss else { return false }
                return q.cost < p.cost - slack || j < i
            }
        }
    }

    /// A measured loss for ordering: NaN as +infinity.
    static func key(_ loss: Double) -> Double { loss.isNaN ? .infinity : loss }
}

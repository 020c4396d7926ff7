/// A chosen candidate per group with its predicted loss and costs.
public struct Plan: Sendable, Equatable {
    /// `assignment[g]`: the candidate index (into `PlanningProblem.candidates`) for group `g`.
    public var assignment: [Int]
    /// The candidate names, parallel to `assignment`.
    public var candidateNames: [String]
    /// Sum of the chosen sensitivities.
    public var predictedLoss: Double
    /// Cost per kind in reported units (average bits, bytes, BOPs, ms); latency only when the profile has a model.
    public var costs: [CostKind: Double]
    /// BOPs as a percentage of `CostModel.referenceBOPs` (nil when the reference is 0).
    public var relativeBOPs: Double?
    /// False when the solver stopped (time limit, gap) before proving optimality.
    public var provenOptimal: Bool

    public init(assignment: [Int], candidateNames: [String], predictedLoss: Double, costs: [CostKind: Double],
                relativeBOPs: Double?, provenOptimal: Bool) {
        self.assignment = assignment
        self.candidateNames = candidateNames
        self.predictedLoss = predictedLoss
        self.costs = costs
        self.relativeBOPs = relativeBOPs
        self.provenOptimal = provenOptimal
    }

    /// Evaluates an assignment under a cost model (no feasibility check).
    public init(assignment: [Int], model: CostModel, provenOptimal: Bool = true) {
        var costs: [CostKind: Double] = [:]
        for kind in CostKind.allCases where model.supports(kind) { costs[kind] = model.value(kind, assignment: assignment) }
        self.init(assignment: assignment,
                  candidateNames: assignment.map { model.problem.candidates[$0].name },
                  predictedLoss: model.predictedLoss(assignment: assignment),
                  costs: costs,
                  relativeBOPs: model.referenceBOPs > 0 ? costs[.bops].map { 100 * $0 / model.referenceBOPs } : nil,
                  provenOptimal: provenOptimal)
    }
}

import MPQLAPQ
import MPQPlanner
import MPQQuantization
import MPQSensitivity

/// Everything a plan run found, typed: the plan, and when measured its measurements, baselines and steps.
public struct PlanResult: Sendable {
    /// What measurement added to the plan.
    public struct Measurement: Sendable {
        /// The chosen plan's measured calibration loss (before refinement): the loss it was chosen by.
        public var loss: Double
        /// The calibration loss after LAPQ's whole-model step search on the chosen plan (its activation ranges
        /// found with everything upstream quantized); refinement starts from the lower of the two. Nil when no
        /// such search ran (composed measurement without `searchesChosenPlan`).
        public var stepSearchLoss: Double?
        public var validation: ValidationMetrics?
        /// The trade-off axis and the plan's cost on it.
        public var costKind: CostKind
        public var cost: Double
        /// The proposals at the plan's budget, measured; `proposal.selected` marks the best.
        public var proposalsAtBudget: [PlanPoint]
        public var uniform: [PlanPoint]
        public var pareto: ParetoMeasurement?
        public var greedy: [PlanPoint]
        public var refinement: RefinementReport?
        /// The chosen plan's quantizers (refined when refinement ran), with their groups.
        public var tensors: [QuantizerRecord]
        public var correctedBiases: [String: [Float]]
        /// Wall seconds per phase.
        public var seconds: [PlanPhase: Double]
    }

    public var request: PlanRequest
    /// Groups, ties, float-only groups and tensors, with the sensitivities in the problem.
    public var prepared: PreparedModel
    public var problem: PlanningProblem
    public var sensitivities: SensitivityTable
    /// What relative BOPs are relative to.
    public var bopsReference: String
    public var plan: Plan
    public var fp32Loss: Double
    public var measurement: Measurement?

    /// The chosen plan's label among the Pareto sweep's points ("plan 9"), else among the proposals at its budget.
    public var chosenLabel: String? {
        guard let measurement else { return nil }
        let names = plan.candidateNames
        return measurement.pareto?.points.first { $0.candidateNames == names }?.label
            ?? measurement.proposalsAtBudget.first { $0.candidateNames == names }?.label
    }

    /// The best measured uniform point whose cost is no higher than the plan's.
    public var bestUniformAtCost: PlanPoint? {
        guard let m = measurement else { return nil }
        return m.uniform.filter { $0.cost <= m.cost * (1 + 1e-9) && $0.measuredLoss != nil }.min { $0.measuredLoss! < $1.measuredLoss! }
    }
}

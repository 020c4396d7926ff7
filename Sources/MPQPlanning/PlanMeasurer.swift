import MPQLAPQ

/// A plan's measured calibration loss, with validation metrics when validation data was given.
public struct MeasuredPlan: Sendable {
    public var loss: Double
    public var validation: ValidationMetrics?
    /// The steps the measurement found, when it ran a step search the chosen plan can keep (nil otherwise).
    public var steps: StepSearchResult?

    public init(loss: Double, validation: ValidationMetrics? = nil, steps: StepSearchResult? = nil) {
        self.loss = loss
        self.validation = validation
        self.steps = steps
    }
}

/// The one seam through which every plan is measured: proposals, uniform points, the Pareto sweep and the
/// greedy baseline. `StepSearchMeasurer` (a whole-model step search per plan) is today's implementation; a
/// cheaper one (e.g. composing the per-group quantizers of the sensitivity sweep) replaces it by conforming.
public protocol PlanMeasurer {
    /// Tells this measurer's stored measurements from another's (it keys the measured-plan store with the
    /// sensitivity table's key); empty for the step search, whose stores predate the protocol.
    var storeTag: String { get }
    /// The calibration loss (and validation metrics) of `assignment`, a candidate index per planned group.
    mutating func measure(_ assignment: [Int]) throws -> MeasuredPlan
    /// The steps of the chosen plan, which refinement starts from and plan.json records.
    mutating func steps(for assignment: [Int]) throws -> StepSearchResult
    /// Whether copies of this measurer may measure different plans at the same time (`measure` changes nothing
    /// they share).
    var measuresConcurrently: Bool { get }
    /// The calibration loss alone, when validating separately is cheaper (`validatesSeparately`); else `measure`.
    mutating func loss(_ assignment: [Int]) throws -> MeasuredPlan
    /// Whether `loss` skips a validation run that `measure` does (so plans nobody reports need no validation).
    var validatesSeparately: Bool { get }
    /// The validation metrics alone of a plan whose loss `loss` measured before (with `validatesSeparately`).
    mutating func validation(_ assignment: [Int]) throws -> ValidationMetrics?
    /// Drops activations kept to speed up the next measurement (after a batch of plans).
    mutating func forgetActivations()
    /// Whether `measure(assignment)` validated exactly `steps` (so its validation metrics are theirs).
    func validated(_ steps: StepSearchResult, for assignment: [Int]) -> Bool
}

extension PlanMeasurer {
    public var measuresConcurrently: Bool { false }
    public var validatesSeparately: Bool { false }
    public mutating func loss(_ assignment: [Int]) throws -> MeasuredPlan { try measure(assignment) }
    public mutating func validation(_ assignment: [Int]) throws -> ValidationMetrics? { try measure(assignment).validation }
    public mutating func forgetActivations() {}
    public func validated(_ steps: StepSearchResult, for assignment: [Int]) -> Bool { false }
}

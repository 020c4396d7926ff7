import MPQLAPQ
import MPQSensitivity

/// Measures a plan by running the step search on the whole quantized model.
public struct StepSearchMeasurer: PlanMeasurer {
    public var measurement: PlanMeasurement
    public let workspace: CalibrationWorkspace
    public var validation: ValidationSet?
    /// How biases are put on their int32 grid in the validation run, as in the calibration runs.
    let biases: BiasQuantization

    /// Measures with `measurement`'s step search on the workspace's sessions, validating on `validation` when given.
    public init(measurement: PlanMeasurement, workspace: CalibrationWorkspace, validation: ValidationSet?) {
        self.measurement = measurement
        self.workspace = workspace
        self.validation = validation
        biases = measurement.search.biases(in: workspace.session.graph)
    }

    /// The step search on the whole plan: its loss and steps, and validation metrics under those steps.
    public var storeTag: String { "" }

    public mutating func measure(_ assignment: [Int]) throws -> MeasuredPlan {
        let result = try steps(for: assignment)
        let settings = StepSearch.settings(result.quantizers, biases: biases)
        let metrics = try validation?.metrics(under: settings) ?? nil
        return MeasuredPlan(loss: result.loss, validation: metrics, steps: result)
    }

    /// `measure` validated the step search's own steps, which `steps(for:)` finds again (deterministically).
    public func validated(_ steps: StepSearchResult, for assignment: [Int]) -> Bool {
        steps.biasCorrection == nil && steps.multipliers.allSatisfy { $0 == 1 }
    }

    /// The step search on the whole plan (deterministic: the steps `measure` found for the same assignment).
    public mutating func steps(for assignment: [Int]) throws -> StepSearchResult {
        try measurement.measure(assignment, session: &workspace.session, probe: &workspace.probe)
    }
}

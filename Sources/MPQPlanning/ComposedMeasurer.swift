import MPQLAPQ
import MPQSensitivity

/// Measures a plan by composing the quantizers the sensitivity sweep chose for each group at its candidate:
/// one evaluation over the calibration data (and one over the validation data), no search.
///
/// The composed activation ranges were found with the rest of the model in FP32, so they are not the ranges a
/// whole-model search would find with everything upstream quantized. They rank proposals and are the chosen plan's
/// steps; with `searchesChosenPlan` the chosen plan also gets the whole-model search (`steps(for:)`).
public struct ComposedMeasurer: PlanMeasurer {
    public var measurement: PlanMeasurement
    public let table: SensitivityTable
    public let workspace: CalibrationWorkspace
    public var validation: ValidationSet?
    let biases: BiasQuantization
    /// The last plan's activations: the next plan re-runs only from its first tensor whose quantizer differs.
    private var last: CalibrationSession.State? = nil
    /// The same for the validation data.
    private var lastValidation: CalibrationSession.State? = nil

    /// Whether `steps(for:)` runs the whole-model search too (else it returns the composed quantizers).
    public var searchesChosenPlan: Bool

    public init(measurement: PlanMeasurement, table: SensitivityTable, workspace: CalibrationWorkspace, validation: ValidationSet?,
                searchesChosenPlan: Bool = false) {
        self.measurement = measurement
        self.table = table
        self.workspace = workspace
        self.validation = validation
        self.searchesChosenPlan = searchesChosenPlan
        biases = measurement.search.biases(in: workspace.session.graph)
    }

    public var storeTag: String { PlanMeasurementMode.composed.rawValue }

    /// One evaluation reads the shared sessions and writes nothing, so copies measure in parallel.
    public var measuresConcurrently: Bool { true }

    /// The plan's composed quantizers (nil when the table predates recorded quantizers).
    public func quantizers(for assignment: [Int]) -> [TensorQuantizer]? {
        measurement.composedQuantizers(for: assignment, table: table)
    }

    public mutating func measure(_ assignment: [Int]) throws -> MeasuredPlan {
        var plan = try loss(assignment)
        plan.validation = try validation(assignment)
        return plan
    }

    /// Validated from the previous plan's validation activations, like `loss`.
    public mutating func validation(_ assignment: [Int]) throws -> ValidationMetrics? {
        guard let validation else { return nil }
        let (metrics, state) = try validation.metrics(under: StepSearch.settings(try composed(assignment), biases: biases),
                                                      from: lastValidation)
        lastValidation = state
        return metrics
    }

    /// The calibration loss without the validation run (which costs as much again per validation sample).
    ///
    /// Evaluated from the previous plan's activations, so plans measured in lexicographic order (as
    /// `PlanMeasurements.measureAll` does) recompute only what follows their first differing group. The loss is the
    /// same as a full run's: the reused activations were computed under the same quantizers.
    public mutating func loss(_ assignment: [Int]) throws -> MeasuredPlan {
        var session = workspace.session
        let state = try session.evaluate(StepSearch.settings(try composed(assignment), biases: biases), from: last)
        last = state
        return MeasuredPlan(loss: measurement.search.loss(of: state, in: session))
    }

    public var validatesSeparately: Bool { validation != nil }

    public mutating func forgetActivations() { (last, lastValidation) = (nil, nil) }

    /// The composed quantizers are what `measure` validated; the whole-model search's steps are not.
    public func validated(_ steps: StepSearchResult, for assignment: [Int]) -> Bool {
        steps.biasCorrection == nil && steps.multipliers.allSatisfy { $0 == 1 } && steps.quantizers == quantizers(for: assignment)
    }

    private func composed(_ assignment: [Int]) throws -> [TensorQuantizer] {
        guard let quantizers = quantizers(for: assignment) else {
            throw InputProblem("the sensitivity table \(table.key) has no quantizers for this plan; delete it to measure it again")
        }
        return quantizers
    }

    /// The composed quantizers; with `searchesChosenPlan`, LAPQ's whole-model step search on the plan unless the
    /// composed quantizers measure lower.
    ///
    /// Measured on this project's examples, neither start wins consistently (the search fitted the calibration data
    /// up to 7 % better on 6 of 11 plans and up to 46 % worse on the others, and generalised worse on
    /// EfficientNet-Lite), and refinement follows either way; the search costs as much as ~100 measurements.
    public mutating func steps(for assignment: [Int]) throws -> StepSearchResult {
        guard searches(assignment) else { return try composedSteps(assignment) }
        var searched = try measurement.measure(assignment, session: &workspace.session, probe: &workspace.probe)
        guard let composed = quantizers(for: assignment) else { return searched }
        let loss = try measurement.composedLoss(composed, session: workspace.session)
        searched.report.lossAfterInitialization = searched.loss
        guard loss < searched.loss else { return searched }
        searched.state = try workspace.session.evaluate(StepSearch.settings(composed, biases: biases))
        (searched.quantizers, searched.multipliers, searched.loss) = (composed, composed.map { _ in 1 }, loss)
        return searched
    }

    /// Whether `steps(for:)` runs the whole-model search on `assignment`: when asked to, or when the table has no
    /// quantizers to compose (tables written before they were recorded).
    public func searches(_ assignment: [Int]) -> Bool {
        searchesChosenPlan || quantizers(for: assignment) == nil
    }

    /// The composed quantizers as a search result (no sweep; the report's loss is theirs).
    private mutating func composedSteps(_ assignment: [Int]) throws -> StepSearchResult {
        let composed = try composed(assignment)
        var session = workspace.session
        let state = try session.evaluate(StepSearch.settings(composed, biases: biases))
        return .unsearched(composed, loss: measurement.search.loss(of: state, in: session), state: state,
                           initialization: measurement.search.options.initialization)
    }
}

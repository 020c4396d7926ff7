import Foundation
import MPQGraph
import MPQKernels
import MPQLAPQ
import MPQSensitivity

/// The stages of `mpq plan` on one prepared model: sensitivities, the ILP's proposals measured at the budget,
/// uniform points, the measured Pareto sweep, the chosen plan's steps, refinement and the greedy baseline.
///
/// Each stage is a method returning a typed value; `run()` composes them. Every plan is measured through
/// `measurer` (see `PlanMeasurer`); progress goes to `onEvent`.
public struct PlanPipeline {
    public let request: PlanRequest
    public let prepared: PreparedModel
    /// The calibration sessions the stages share.
    public let workspace: CalibrationWorkspace
    public let objective: CalibrationObjective
    /// The step search of the sensitivity sweep (and of the default measurer).
    public let search: StepSearch
    /// What measures plans; nil (the default) measures as the request says (`measurer(for:)`). Set it before
    /// `run()` to measure differently.
    public var measurer: (any PlanMeasurer)?
    public var onEvent: PlanEventHandler

    /// A pipeline on `prepared`; the default measurer runs the step search on each whole plan.
    public init(request: PlanRequest, prepared: PreparedModel, onEvent: @escaping PlanEventHandler = { _ in }) throws {
        if let threads = request.threads { KernelThreads.count = threads }
        self.request = request
        self.prepared = prepared
        self.onEvent = onEvent
        workspace = try CalibrationWorkspace(graph: prepared.graph, calibration: prepared.calibration, batchSize: request.batchSize,
                                             reusesActivations: request.reusesActivations)
        objective = CalibrationObjective(kind: request.loss, session: workspace.session, labels: prepared.calibration.labels)
        var options = StepSearch.Options()
        options.initialization = request.stepSearch
        options.joint = nil
        options.probeFinalists = Self.pSweepFinalists(request, prepared: prepared)
        options.unsweptFromBits = Self.pSweepBelowBits(request, prepared: prepared)
        var search = StepSearch(options: options, loss: objective.function)
        search.probeLoss = Self.probeLoss(request, workspace: workspace, labels: prepared.calibration.labels)
        self.search = search
        measurer = nil
    }

    /// The loss on the probe's samples when the request ranks p values there and the probe is a proper subset.
    static func probeLoss(_ request: PlanRequest, workspace: CalibrationWorkspace,
                          labels: [Int]?) -> (@Sendable ([String: Tensor]) -> Double)? {
        let probeCount = workspace.probe.validCounts.reduce(0, +)
        guard request.pSweepSamples == .probe, probeCount < workspace.session.validCounts.reduce(0, +) else { return nil }
        return CalibrationObjective(kind: request.loss, session: workspace.probe, labels: labels.map { Array($0.prefix(probeCount)) }).function
    }

    /// The p sweep's finalists: the request's, else the default for the model's cost per calibration pass.
    static func pSweepFinalists(_ request: PlanRequest, prepared: PreparedModel) -> Int {
        request.pSweepFinalists
            ?? PlanRequest.defaultPSweepFinalists(macsPerSample: macsPerSample(prepared), samples: prepared.calibration.sampleCount)
    }

    /// The grids from which the p sweep is skipped: the request's, else the default for the model's cost per pass.
    static func pSweepBelowBits(_ request: PlanRequest, prepared: PreparedModel) -> Int {
        request.pSweepBelowBits
            ?? PlanRequest.defaultPSweepBelowBits(macsPerSample: macsPerSample(prepared), samples: prepared.calibration.sampleCount)
    }

    /// The samples sensitivities are measured on: the request's, else the default for the model's cost per pass; all
    /// of them unless the p sweep ranks on the probe and the probe is a proper subset (`search.probeLoss`).
    public var sensitivitySamples: SensitivitySamples {
        guard search.probeLoss != nil else { return .all }
        return request.sensitivitySamples
            ?? PlanRequest.defaultSensitivitySamples(macsPerSample: Self.macsPerSample(prepared), samples: prepared.calibration.sampleCount)
    }

    /// Multiply-accumulates of the quantized layers per sample.
    private static func macsPerSample(_ prepared: PreparedModel) -> Double {
        Double(prepared.problem.groups.reduce(0) { $0 + $1.macs })
    }

    /// The p sweep's samples in effect: `probe` only when the probe is smaller than the calibration data.
    public var effectivePSweepSamples: PSweepSamples { search.probeLoss == nil ? .all : .probe }

    /// The request's measurer: the sweep's quantizers composed (`ComposedMeasurer`), or LAPQ's whole-model step
    /// search per plan (`StepSearchMeasurer`).
    public func measurer(for table: SensitivityTable) -> any PlanMeasurer {
        if let measurer { return measurer }
        // A whole-model search measures one plan at a time, so its p sweep may use every core.
        var wholeModel = search
        wholeModel.options.pSweepThreads = KernelThreads.count
        let measurement = PlanMeasurement(grouping: prepared.grouping, candidates: prepared.problem.candidates, search: wholeModel)
        switch request.measurement {
        case .composed:
            return ComposedMeasurer(measurement: measurement, table: table, workspace: workspace, validation: prepared.validation,
                                    searchesChosenPlan: request.searchesChosenPlan)
        case .stepSearch:
            return StepSearchMeasurer(measurement: measurement, workspace: workspace, validation: prepared.validation)
        }
    }

    /// Prepares the request's model (`PreparedModel.prepare`) and builds the pipeline on it.
    public init(request: PlanRequest, onEvent: @escaping PlanEventHandler = { _ in }) throws {
        if let threads = request.threads { KernelThreads.count = threads }
        try self.init(request: request, prepared: PreparedModel.prepare(request), onEvent: onEvent)
    }
}

import Foundation
import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQQuantization

/// Joint refinement of a plan's steps with early stopping: the search fits three quarters of the
/// calibration samples and keeps the point that is best on the remaining quarter.
public struct JointRefinement: Sendable {
    public var settings: PlanRequest.Refinement
    public var lossKind: CalibrationLoss

    /// The refinement `settings` of a plan request.
    public init(_ settings: PlanRequest.Refinement, lossKind: CalibrationLoss) {
        self.settings = settings
        self.lossKind = lossKind
    }

    /// What the search returned.
    public struct Outcome {
        public var quantizers: [TensorQuantizer]
        public var multipliers: [Double]
        public var correction: BiasCorrectionPlan?
        /// The search's own report: evaluations, whether the corrected biases were kept, the held-out gains.
        public var search: StepSearch.Report
        /// The patience the search ran with (nil: none).
        public var patience: Int?
        /// The order Powell visited the steps in.
        public var coordinateOrder: StepSearch.CoordinateOrder
    }

    /// Refines `quantizers` of `graph` on `calibration` (inputs split along the sample axis); `progress` gets
    /// (evaluations done, allowed).
    public func run(_ quantizers: [TensorQuantizer], graph: Graph, calibration: LabelledData, batchSize: Int,
                    progress: ((Int, Int) -> Void)?) throws -> Outcome {
        let count = calibration.sampleCount
        let fitCount = count >= 8 ? count - count / 4 : count
        var fit = try CalibrationSession(graph: graph, inputs: calibration.inputs.mapValues { $0.slice(axis0: 0..<fitCount) },
                                         batchSize: Self.halved(batchSize, samples: fitCount))
        var options = StepSearch.Options()
        options.joint = settings.optimizer
        options.maxEvaluations = settings.maxEvaluations
        let macs = Self.macsPerPass(fit)
        options.patience = settings.patience.evaluations(macsPerPass: macs)
        options.lineSearchResolution = settings.lineSearchResolution
        options.coordinateOrder = settings.coordinateOrder ?? Self.coordinateOrder(macsPerPass: macs)
        let fitObjective = CalibrationObjective(kind: lossKind, session: fit, labels: calibration.labels.map { Array($0.prefix(fitCount)) })
        let search = StepSearch(options: options, loss: fitObjective.function, progress: { _, done, total in progress?(done, total) })
        let holdout = try fitCount < count ? self.holdout(calibration, from: fitCount, graph: graph, batchSize: batchSize) : nil
        let correction = settings.biasCorrection
            ? try BiasCorrectionPlan(graph: graph, session: fit, weights: quantizers.filter { $0.role == .weight }.map(\.name))
            : nil
        let refined = try search.refine(quantizers, session: &fit, biasCorrection: correction, holdout: holdout)
        return Outcome(quantizers: refined.quantizers, multipliers: refined.multipliers, correction: refined.biasCorrection,
                       search: refined.report, patience: holdout == nil ? nil : options.patience,
                       coordinateOrder: options.coordinateOrder)
    }

    /// Multiply-accumulates of one pass over `session`'s samples (padding rows included).
    static func macsPerPass(_ session: CalibrationSession) -> Double {
        let perBatch = session.plan.layerStatistics().reduce(0) { $0 + Double($1.macs) }
        return perBatch * Double(session.batches.count)
    }

    /// Powell's coordinate order for a fit pass of `macs`: cheapest first above `PlanRequest.expensivePassMACs`
    /// (evaluations there take seconds, and the budget does not cover one sweep over every step), else the plan's.
    static func coordinateOrder(macsPerPass macs: Double) -> StepSearch.CoordinateOrder {
        PlanRequest.isExpensive(macsPerPass: macs) ? .cheapestFirst : .graph
    }

    /// A batch size that cuts `samples` into at least two batches, so that an evaluation runs them side by side on
    /// two cores (`CalibrationSession.evaluate`), which scales better than splitting one batch's kernels. Always
    /// halved, whatever the thread count, so the results do not depend on it.
    static func halved(_ batchSize: Int, samples: Int) -> Int {
        max(1, min(batchSize, (samples + 1) / 2))
    }

    /// The samples from `start` on, which stop the search early.
    private func holdout(_ calibration: LabelledData, from start: Int, graph: Graph, batchSize: Int) throws -> Holdout {
        let count = calibration.sampleCount
        let session = try CalibrationSession(graph: graph, inputs: calibration.inputs.mapValues { $0.slice(axis0: start..<count) },
                                             batchSize: Self.halved(batchSize, samples: count - start))
        let objective = CalibrationObjective(kind: lossKind, session: session, labels: calibration.labels.map { Array($0.suffix(count - start)) })
        return Holdout(session: session, loss: objective.function)
    }
}

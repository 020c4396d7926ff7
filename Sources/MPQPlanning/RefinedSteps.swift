import Foundation
import MPQGraph
import MPQLAPQ

/// A plan's steps after joint refinement, and what the refinement did: shared by `mpq plan` and `mpq refine`.
public struct RefinedSteps {
    public var quantizers: [TensorQuantizer]
    /// The refinement's step multiplier per quantizer.
    public var multipliers: [Double]
    /// Biases that absorbed the weights' expected output shift (the weights stay on their grid), in float, by
    /// initializer name; the export puts them on their int32 grid as the simulation did.
    public var correctedBiases: [String: [Float]]
    public var report: RefinementReport

    /// The quantizers as plan-file records, each with its group's name.
    public func records(group: (String) -> String?) -> [QuantizerRecord] {
        zip(quantizers, multipliers).map { QuantizerRecord($0, multiplier: $1, group: group($0.name)) }
    }
}

extension JointRefinement {
    /// Refines `quantizers` and measures the loss on all of `session`'s calibration samples after bias correction
    /// and after the search (and before, unless `lossBefore` gives it), and on `validation` after.
    public func refine(_ quantizers: [TensorQuantizer], calibration: LabelledData, session: inout CalibrationSession,
                       batchSize: Int, lossBefore: Double? = nil, validationBefore: ValidationMetrics? = nil,
                       validation: ValidationSet? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> RefinedSteps {
        let objective = CalibrationObjective(kind: lossKind, session: session, labels: calibration.labels)
        let graph = session.graph
        let biases = StepSearch(loss: objective.function).biases(in: graph)
        func loss(_ settings: [String: QuantizerSetting]) throws -> Double {
            let state = try session.evaluate(settings)
            return objective.loss(of: [objective.outputName: CalibrationSession.joinedOutputs(state, name: objective.outputName)])
        }
        let before = try lossBefore ?? loss(StepSearch.settings(quantizers, biases: biases))
        let start = Date()
        let outcome = try run(quantizers, graph: graph, calibration: calibration, batchSize: batchSize, progress: progress)
        let settings = StepSearch.settings(outcome.quantizers, multipliers: outcome.multipliers, biasCorrection: outcome.correction,
                                           biases: biases)
        let biasOnly = try loss(StepSearch.settings(outcome.quantizers, biasCorrection: outcome.correction, biases: biases))
        let after = try loss(settings)
        let report = RefinementReport(lossBefore: before, lossAfterBiasCorrection: biasOnly, lossAfter: after,
                                      evaluations: outcome.search.jointEvaluations ?? 0, seconds: Date().timeIntervalSince(start),
                                      validationBefore: validationBefore,
                                      validationAfter: try validation?.metrics(under: settings) ?? nil,
                                      biasCorrected: outcome.search.biasCorrected, heldOutGains: outcome.search.heldOutGains,
                                      patience: outcome.patience, coordinateOrder: outcome.coordinateOrder)
        return RefinedSteps(quantizers: outcome.quantizers, multipliers: outcome.multipliers,
                            correctedBiases: Self.correctedBiases(outcome, graph: graph), report: report)
    }

    /// The biases bias correction changed, in float.
    static func correctedBiases(_ outcome: Outcome, graph: Graph) -> [String: [Float]] {
        let quantized = Set(outcome.quantizers.map(\.name))
        let corrected = StepSearch.settings(outcome.quantizers, multipliers: outcome.multipliers, biasCorrection: outcome.correction,
                                            biases: .none)
        var biases: [String: [Float]] = [:]
        for (name, setting) in corrected where !quantized.contains(name) {
            if let bias = graph.initializers[name] { biases[name] = setting.transform(bias).floats }
        }
        return biases
    }
}

import Foundation
import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQQuantization

/// Joint refinement of a plan's steps with early stopping: the search fits three quarters of the
/// calibration samples and keeps the point that is best on the remaining quarter.
struct JointRefinement {
    var optimizer: StepSearch.JointOptimizer
    var maxEvaluations: Int
    var biasCorrection: Bool
    var lossKind: CalibrationLoss

    struct Outcome {
        var quantizers: [TensorQuantizer]
        var multipliers: [Double]
        var correction: BiasCorrectionPlan?
        var evaluations: Int
        var biasCorrected: Bool?
    }

    /// Refines `quantizers` of `graph` on `calibration` (inputs split along the sample axis).
    func run(_ quantizers: [TensorQuantizer], graph: Graph, calibration: LabelledData, batchSize: Int,
             progress: ((Int, Int) -> Void)?) throws -> Outcome {
        let count = calibration.sampleCount
        let fitCount = count >= 8 ? count - count / 4 : count
        let fitInputs = calibration.inputs.mapValues { $0.slice(axis0: 0..<fitCount) }
        var fit = try CalibrationSession(graph: graph, inputs: fitInputs, batchSize: batchSize)
        let output = graph.outputs[0].name
        let kind = lossKind
        func loss(reference: Tensor, labels: [Int]?) -> @Sendable ([String: Tensor]) -> Double {
            { outputs in
                guard let out = outputs[output] else { return .infinity }
                return (try? kind.evaluate(out, reference: reference, labels: labels)) ?? .infinity
            }
        }
        let fitReference = CalibrationSession.joinedOutputs(fit.reference, name: output)
        var options = StepSearch.Options()
        options.joint = optimizer
        options.maxEvaluations = maxEvaluations
        let search = StepSearch(options: options, loss: loss(reference: fitReference, labels: calibration.labels.map { Array($0.prefix(fitCount)) }),
                                progress: { _, done, total in progress?(done, total) })
        var holdout: Holdout? = nil
        if fitCount < count {
            let inputs = calibration.inputs.mapValues { $0.slice(axis0: fitCount..<count) }
            let session = try CalibrationSession(graph: graph, inputs: inputs, batchSize: batchSize)
            let reference = CalibrationSession.joinedOutputs(session.reference, name: output)
            holdout = Holdout(session: session, loss: loss(reference: reference, labels: calibration.labels.map { Array($0.suffix(count - fitCount)) }))
        }
        let correction = biasCorrection
            ? try BiasCorrectionPlan(graph: graph, session: fit, weights: quantizers.filter { $0.role == .weight }.map(\.name))
            : nil
        let refined = try search.refine(quantizers, session: &fit, biasCorrection: correction, holdout: holdout)
        return Outcome(quantizers: refined.quantizers, multipliers: refined.multipliers, correction: refined.biasCorrection,
                       evaluations: refined.report.jointEvaluations ?? 0, biasCorrected: refined.report.biasCorrected)
    }
}

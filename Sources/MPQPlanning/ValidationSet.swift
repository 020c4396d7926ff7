import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQQuantization

/// Held-out data with its FP32 outputs, on which quantized models are scored.
public struct ValidationSet: Sendable {
    public var data: LabelledData
    /// The loss against the FP32 validation outputs.
    public var objective: CalibrationObjective
    public var batchSize: Int
    /// The FP32 activations of every batch: a plan's validation re-runs only what its quantizers change, and a plan
    /// validated after a similar one (`metrics(under:from:)`) only what follows their first differing quantizer.
    let session: CalibrationSession

    /// Runs `graph` in FP32 over `data` for the reference outputs.
    public init(data: LabelledData, graph: Graph, loss: CalibrationLoss, batchSize: Int) throws {
        let output = graph.outputs[0].name
        let session = try CalibrationSession(graph: graph, inputs: data.inputs, batchSize: batchSize)
        guard session.reference.outputs.allSatisfy({ $0[output] != nil }) else {
            throw InputProblem("the model produced no '\(output)'")
        }
        let reference = CalibrationSession.joinedOutputs(session.reference, name: output)
        self.data = data
        self.objective = CalibrationObjective(kind: loss, outputName: output, reference: reference, labels: data.labels)
        self.batchSize = batchSize
        self.session = session
    }

    /// The FP32 model's accuracy, when there are labels and the output holds class scores.
    public var referenceAccuracy: Double? {
        let out = objective.reference
        guard let labels = data.labels, out.rank == 2, let scores = out.floats else { return nil }
        return ClassificationMetrics(scores: scores, classes: out.shape[1], labels: labels).accuracy
    }

    /// Loss, accuracy (with labels and class scores) and, with the cosine loss, the worst sample's cosine of
    /// the model quantized by `settings`.
    public func metrics(under settings: [String: QuantizerSetting]) throws -> ValidationMetrics? {
        return try metrics(of: session.joinedOutputs(try session.outputs(settings), name: objective.outputName))
    }

    /// The metrics of `settings` evaluated from `last` (an earlier validation's state, nil: FP32), and the state to
    /// validate the next plan from. The same metrics as `metrics(under:)`: reused activations were computed under
    /// the same quantizers.
    public func metrics(under settings: [String: QuantizerSetting],
                        from last: CalibrationSession.State?) throws -> (ValidationMetrics?, CalibrationSession.State) {
        var session = self.session
        let state = try session.evaluate(settings, from: last)
        return (try metrics(of: CalibrationSession.joinedOutputs(state, name: objective.outputName)), state)
    }

    /// Loss, accuracy, worst cosine and class agreement of the quantized model's joined outputs `out`.
    private func metrics(of out: Tensor) throws -> ValidationMetrics? {
        let loss = try objective.evaluate(out)
        var accuracy: Double? = nil
        if let labels = data.labels, out.rank == 2, let scores = out.floats {
            accuracy = ClassificationMetrics(scores: scores, classes: out.shape[1], labels: labels).accuracy
        }
        // For embedding models, the worst sample matters as much as the mean.
        let minCosine = objective.kind == .cosineDistance
            ? try CalibrationLoss.rowCosineSimilarities(reference: objective.reference, quantized: out).min() : nil
        let scoresClasses = [.klDivergence, .crossEntropy].contains(objective.kind) && out.rank == 2
        let agreement = scoresClasses ? objective.reference.floats.flatMap { reference in
            out.floats.flatMap { ClassAgreement(reference: reference, quantized: $0, classes: out.shape[1]) }
        } : nil
        return ValidationMetrics(loss: loss, accuracy: accuracy, minCosine: minCosine, agreement: agreement)
    }
}

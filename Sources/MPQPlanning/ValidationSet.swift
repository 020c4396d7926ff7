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
    /// Compiled once: every measured plan is validated.
    let runner: BatchRunner

    /// Runs `graph` in FP32 over `data` for the reference outputs.
    public init(data: LabelledData, graph: Graph, loss: CalibrationLoss, batchSize: Int) throws {
        let output = graph.outputs[0].name
        let runner = try BatchRunner(graph: graph, sampleShapes: data.sampleShapes, sampleCount: data.sampleCount,
                                     batchSize: batchSize)
        guard let reference = try runner.run(data.inputs)[output] else { throw InputProblem("the model produced no '\(output)'") }
        self.data = data
        self.objective = CalibrationObjective(kind: loss, outputName: output, reference: reference, labels: data.labels)
        self.batchSize = batchSize
        self.runner = runner
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
        let hooks = TensorHooks(settings)
        guard let out = try runner.run(data.inputs, hooks: hooks)[objective.outputName] else { return nil }
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

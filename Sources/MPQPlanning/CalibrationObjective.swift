import MPQGraph
import MPQLAPQ
import MPQQuantization

/// The calibration loss of model outputs against fixed FP32 reference outputs and/or labels: what every
/// step search, measurement and refinement minimises.
public struct CalibrationObjective: Sendable {
    public var kind: CalibrationLoss
    /// The graph output the loss reads.
    public var outputName: String
    /// FP32 outputs of the same samples (all batches joined).
    public var reference: Tensor
    public var labels: [Int]?

    public init(kind: CalibrationLoss, outputName: String, reference: Tensor, labels: [Int]?) {
        self.kind = kind
        self.outputName = outputName
        self.reference = reference
        self.labels = labels
    }

    /// The objective on a session's samples: its FP32 outputs are the reference.
    public init(kind: CalibrationLoss, session: CalibrationSession, labels: [Int]?) {
        let output = session.graph.outputs[0].name
        self.init(kind: kind, outputName: output, reference: CalibrationSession.joinedOutputs(session.reference, name: output),
                  labels: labels)
    }

    /// The loss of one output tensor; throws when it does not fit the reference or labels.
    public func evaluate(_ output: Tensor) throws -> Double {
        try kind.evaluate(output, reference: reference, labels: labels)
    }

    /// The loss of a set of named outputs; +∞ when the output is missing or does not fit, so a search never prefers it.
    public func loss(of outputs: [String: Tensor]) -> Double {
        guard let output = outputs[outputName] else { return .infinity }
        return (try? evaluate(output)) ?? .infinity
    }

    /// `loss(of:)` as the closure `StepSearch` and `Holdout` take.
    public var function: @Sendable ([String: Tensor]) -> Double {
        let objective = self
        return { objective.loss(of: $0) }
    }
}

/// Validation loss (the calibration loss, against the FP32 validation outputs) and accuracy.
public struct ValidationMetrics: Codable, Sendable, Equatable {
    public var loss: Double
    public var accuracy: Double?
    /// The lowest per-sample cosine similarity to the FP32 outputs (with the cosine loss).
    public var minCosine: Double? = nil
    /// Top-1/top-5 agreement with the FP32 classes (with a class-score loss: KL or cross-entropy).
    public var agreement: ClassAgreement? = nil

    public init(loss: Double, accuracy: Double? = nil, minCosine: Double? = nil, agreement: ClassAgreement? = nil) {
        self.loss = loss
        self.accuracy = accuracy
        self.minCosine = minCosine
        self.agreement = agreement
    }
}

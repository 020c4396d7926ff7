import MPQLAPQ

/// Loss and accuracy before and after the joint refinement of a plan (plan.json's `refinement`).
public struct RefinementReport: Codable, Sendable, Equatable {
    public var lossBefore: Double
    public var lossAfterBiasCorrection: Double
    public var lossAfter: Double
    public var evaluations: Int
    public var seconds: Double
    public var validationBefore: ValidationMetrics?
    public var validationAfter: ValidationMetrics?
    /// Whether the corrected biases were kept (they are dropped when they raise the loss).
    public var biasCorrected: Bool? = nil
    /// The evaluations after which the loss on the held-out samples improved: the steps are those of the last one,
    /// and the evaluations after it only confirmed there was no further gain (`--refine-patience` sets how many).
    public var heldOutGains: [Int]? = nil
    /// How many evaluations without a held-out gain stop the search (nil: it could run to its evaluation budget).
    public var patience: Int? = nil
    /// The order Powell visited the steps in (`graph` or `cheapest-first`; nil in plan files written before it was recorded).
    public var coordinateOrder: StepSearch.CoordinateOrder? = nil

    public init(lossBefore: Double, lossAfterBiasCorrection: Double, lossAfter: Double, evaluations: Int, seconds: Double,
                validationBefore: ValidationMetrics? = nil, validationAfter: ValidationMetrics? = nil, biasCorrected: Bool? = nil,
                heldOutGains: [Int]? = nil, patience: Int? = nil, coordinateOrder: StepSearch.CoordinateOrder? = nil) {
        self.lossBefore = lossBefore
        self.lossAfterBiasCorrection = lossAfterBiasCorrection
        self.lossAfter = lossAfter
        self.evaluations = evaluations
        self.seconds = seconds
        self.validationBefore = validationBefore
        self.validationAfter = validationAfter
        self.biasCorrected = biasCorrected
        self.heldOutGains = heldOutGains
        self.patience = patience
        self.coordinateOrder = coordinateOrder
    }
}

import Foundation

/// Everything `PlanReport` shows about one plan. The caller fills it; nothing here is computed from a model.
public struct PlanReportData: Codable, Sendable, Equatable {
    /// One cost of the plan and, when budgeted, its limit and how much of it the plan uses.
    public struct Cost: Codable, Sendable, Equatable {
        /// "average weight bits", "model size", "BOPs", ...
        public var kind: String
        /// The plan's value as display text ("4.38 bits", "5.6 MB").
        public var value: String
        /// The budget as display text, or nil when this cost is not budgeted.
        public var budget: String?
        /// value / budget (1 = all of the budget), or nil when unknown.
        public var fraction: Double?

        public init(kind: String, value: String, budget: String? = nil, fraction: Double? = nil) {
            self.kind = kind
            self.value = value
            self.budget = budget
            self.fraction = fraction
        }
    }

    /// One quantization group (usually one layer) and the candidate the plan gives it.
    public struct Group: Codable, Sendable, Equatable {
        public var name: String
        public var opTypes: [String]
        /// The chosen candidate's name ("W4A8"); matches an entry of `PlanReportData.candidates`.
        public var candidate: String
        public var weightBits: Int
        public var activationBits: Int
        public var parameters: Int
        public var macs: Int
        /// The chosen candidate's loss increase, when measured.
        public var sensitivity: Double?

        public init(name: String, opTypes: [String], candidate: String, weightBits: Int, activationBits: Int,
                    parameters: Int, macs: Int, sensitivity: Double? = nil) {
            self.name = name
            self.opTypes = opTypes
            self.candidate = candidate
            self.weightBits = weightBits
            self.activationBits = activationBits
            self.parameters = parameters
            self.macs = macs
            self.sensitivity = sensitivity
        }
    }

    /// Losses before and after joint refinement of the plan.
    public struct Refinement: Codable, Sendable, Equatable {
        public var lossBefore: Double
        public var lossAfterBiasCorrection: Double?
        public var lossAfter: Double
        public var evaluations: Int
        public var validationLossBefore: Double?
        public var validationLossAfter: Double?
        public var validationAccuracyBefore: Double?
        public var validationAccuracyAfter: Double?

        public init(lossBefore: Double, lossAfterBiasCorrection: Double? = nil, lossAfter: Double, evaluations: Int,
                    validationLossBefore: Double? = nil, validationLossAfter: Double? = nil,
                    validationAccuracyBefore: Double? = nil, validationAccuracyAfter: Double? = nil) {
            self.lossBefore = lossBefore
            self.lossAfterBiasCorrection = lossAfterBiasCorrection
            self.lossAfter = lossAfter
            self.evaluations = evaluations
            self.validationLossBefore = validationLossBefore
            self.validationLossAfter = validationLossAfter
            self.validationAccuracyBefore = validationAccuracyBefore
            self.validationAccuracyAfter = validationAccuracyAfter
        }
    }

    public var model: String
    public var profile: String
    /// The calibration loss ("cross-entropy", "MSE", ...).
    public var lossName: String
    /// The budgets as given ("4.5bits", "size<=6MB").
    public var budgets: [String]
    public var costs: [Cost]
    public var fp32Loss: Double
    public var predictedLoss: Double
    public var measuredLoss: Double?
    public var groups: [Group]
    /// Candidate names in display order (heatmap columns).
    public var candidates: [String]
    /// Loss increase per group name and candidate name; nil (or a missing entry) = candidate not allowed.
    public var sensitivities: [String: [String: Double?]]
    public var refinement: Refinement?
    public var tradeOff: TradeOffCurve?

    public init(model: String, profile: String, lossName: String, budgets: [String] = [], costs: [Cost] = [],
                fp32Loss: Double, predictedLoss: Double, measuredLoss: Double? = nil, groups: [Group] = [],
                candidates: [String] = [], sensitivities: [String: [String: Double?]] = [:],
                refinement: Refinement? = nil, tradeOff: TradeOffCurve? = nil) {
        self.model = model
        self.profile = profile
        self.lossName = lossName
        self.budgets = budgets
        self.costs = costs
        self.fp32Loss = fp32Loss
        self.predictedLoss = predictedLoss
        self.measuredLoss = measuredLoss
        self.groups = groups
        self.candidates = candidates
        self.sensitivities = sensitivities
        self.refinement = refinement
        self.tradeOff = tradeOff
    }
}

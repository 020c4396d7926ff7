import Foundation
import MPQPlanner

/// Everything the trade-off figure of `mpq plan` shows: predicted and measured Pareto points, uniform-precision
/// baselines and the greedy baseline against one cost axis, the chosen plan, the budget and the FP32 reference.
///
/// Costs are stored in the axis's display units (`axis.label`), not in raw planner units: weight size in KB when
/// the axis says KB, BOPs as a percentage of the W8A8 reference when the axis is relative, and so on. Build the
/// points with `Point(pareto:series:label:axis:isChosen:)` or `Point(plan:...)`, which do the conversion.
public struct TradeOffCurve: Codable, Sendable, Equatable {
    /// Which series a point belongs to.
    public enum Series: String, Codable, Sendable, CaseIterable {
        /// An ILP plan at its predicted loss (the Pareto front as the planner sees it).
        case predicted
        /// An ILP plan at its loss measured by running the quantized model.
        case measured
        /// Every group at one candidate ("W8A8", "W4A8", ...).
        case uniform
        /// The AIMET-style greedy baseline.
        case greedy
    }

    /// How raw costs (average bits, bytes, BOPs, ms) become axis values.
    public struct CostAxis: Codable, Sendable, Equatable {
        public var kind: CostKind
        /// The axis title with its unit: "average weight bits", "weight size (KB)", "BOPs (% of W8A8)".
        public var label: String
        /// Raw units per displayed unit (1000 for KB, 1e9 for GBOPs); ignored when `relativeBOPs`.
        public var scale: Double
        /// BOPs shown as `Plan.relativeBOPs` (percent of the reference) instead of `raw / scale`.
        public var relativeBOPs: Bool

        public init(kind: CostKind, label: String, scale: Double = 1, relativeBOPs: Bool = false) {
            self.kind = kind
            self.label = label
            self.scale = scale
            self.relativeBOPs = relativeBOPs
        }

        /// The conventional axis for `kind`. `maxRawValue` (in planner units) picks bytes/KB/MB and BOPs/MBOPs/GBOPs;
        /// `relativeBOPs` shows BOPs as a percentage of the reference (named by `reference`, default "W8A8").
        public static func standard(for kind: CostKind, maxRawValue: Double = 0, relativeBOPs: Bool = false,
                                    reference: String = "W8A8") -> CostAxis {
            switch kind {
            case .averageWeightBits:
                return CostAxis(kind: kind, label: "average weight bits")
            case .weightBytes:
                if maxRawValue >= 1e7 { return CostAxis(kind: kind, label: "weight size (MB)", scale: 1e6) }
                if maxRawValue >= 1e4 { return CostAxis(kind: kind, label: "weight size (KB)", scale: 1e3) }
                return CostAxis(kind: kind, label: "weight size (bytes)")
            case .latency:
                return CostAxis(kind: kind, label: "latency (ms)")
            case .bops:
                if relativeBOPs { return CostAxis(kind: kind, label: "BOPs (% of \(reference))", relativeBOPs: true) }
                if maxRawValue >= 1e10 { return CostAxis(kind: kind, label: "GBOPs", scale: 1e9) }
                if maxRawValue >= 1e7 { return CostAxis(kind: kind, label: "MBOPs", scale: 1e6) }
                return CostAxis(kind: kind, label: "BOPs")
            }
        }

        /// A raw cost in display units; `plan` supplies the relative BOPs when the axis is relative.
        public func display(_ rawCost: Double, plan: Plan? = nil) -> Double {
            if relativeBOPs, kind == .bops { return plan?.relativeBOPs ?? .nan }
            return scale == 0 ? rawCost : rawCost / scale
        }

        /// The cost of `plan` on this axis (NaN when the plan has no cost of this kind).
        public func display(plan: Plan) -> Double {
            if relativeBOPs, kind == .bops { return plan.relativeBOPs ?? .nan }
            guard let raw = plan.costs[kind] else { return .nan }
            return display(raw)
        }
    }

    /// The budget the chosen plan was solved under.
    public struct Budget: Codable, Sendable, Equatable {
        /// As written on the command line ("4.5bits", "60%bops").
        public var text: String
        /// The limit in the axis's display units (nil when it limits another kind than the axis).
        public var limit: Double?

        public init(text: String, limit: Double?) {
            self.text = text
            self.limit = limit
        }
    }

    /// The unquantized model, drawn as horizontal reference lines.
    public struct Reference: Codable, Sendable, Equatable {
        public var label: String
        public var loss: Double?
        public var accuracy: Double?

        public init(label: String = "FP32", loss: Double? = nil, accuracy: Double? = nil) {
            self.label = label
            self.loss = loss
            self.accuracy = accuracy
        }
    }

    /// One marker of the figure.
    public struct Point: Codable, Sendable, Equatable {
        public var series: Series
        /// "plan 3", "W8A8", "greedy 2".
        public var label: String
        /// In the axis's display units.
        public var cost: Double
        /// Sum of sensitivities (a loss increase over FP32; see `TradeOffCurve.predictedLossIsIncrease`).
        public var predictedLoss: Double?
        /// Loss of the quantized model on the calibration data.
        public var measuredLoss: Double?
        /// Loss on held-out validation data.
        public var validationLoss: Double?
        /// Accuracy on held-out validation data (a fraction or a percentage, as the caller measured it).
        public var validationAccuracy: Double?
        /// The candidate per group, or nil when not recorded (uniform points need not list them).
        public var candidateNames: [String]?
        public var isChosen: Bool
        /// For measured ILP proposals: whether the plan is on the measured Pareto front (the lower envelope of every
        /// measured proposal); nil when not recorded (then it counts as on the front).
        public var onFront: Bool?
        /// For ILP proposals: the best rank among the k best by predicted loss at the budgets that proposed it
        /// (0: an ILP optimum); nil when not recorded or proposed only by the tie-break.
        public var rank: Int?
        /// For ILP proposals: whether the BOPs tie-break proposed it.
        public var tieBroken: Bool?
        /// For ILP proposals: whether it measured best among the proposals of some budget.
        public var selected: Bool?

        public init(series: Series, label: String, cost: Double, predictedLoss: Double? = nil, measuredLoss: Double? = nil,
                    validationLoss: Double? = nil, validationAccuracy: Double? = nil, candidateNames: [String]? = nil,
                    isChosen: Bool = false, onFront: Bool? = nil, rank: Int? = nil, tieBroken: Bool? = nil, selected: Bool? = nil) {
            self.series = series
            self.label = label
            self.cost = cost
            self.predictedLoss = predictedLoss
            self.measuredLoss = measuredLoss
            self.validationLoss = validationLoss
            self.validationAccuracy = validationAccuracy
            self.candidateNames = candidateNames
            self.isChosen = isChosen
            self.onFront = onFront
            self.rank = rank
            self.tieBroken = tieBroken
            self.selected = selected
        }

        /// A point of a Pareto sweep (ILP or greedy); its cost converted to `axis` units.
        public init(pareto: ParetoPoint, series: Series, label: String, axis: CostAxis, isChosen: Bool = false,
                    validationLoss: Double? = nil, validationAccuracy: Double? = nil) {
            self.init(series: series, label: label, cost: axis.display(pareto.cost, plan: pareto.plan),
                      predictedLoss: pareto.predictedLoss, measuredLoss: pareto.measuredLoss,
                      validationLoss: validationLoss, validationAccuracy: validationAccuracy,
                      candidateNames: pareto.plan.candidateNames, isChosen: isChosen)
        }

        /// A plan (e.g. a uniform-precision one) at its cost on `axis`.
        public init(plan: Plan, series: Series, label: String, axis: CostAxis, measuredLoss: Double? = nil,
                    validationLoss: Double? = nil, validationAccuracy: Double? = nil, includeCandidates: Bool = true,
                    isChosen: Bool = false) {
            self.init(series: series, label: label, cost: axis.display(plan: plan), predictedLoss: plan.predictedLoss,
                      measuredLoss: measuredLoss, validationLoss: validationLoss, validationAccuracy: validationAccuracy,
                      candidateNames: includeCandidates ? plan.candidateNames : nil, isChosen: isChosen)
        }
    }

    public var axis: CostAxis
    public var budget: Budget?
    public var reference: Reference
    /// True when predicted losses are increases over the FP32 loss (the planner's sensitivities); the chart then
    /// plots `reference.loss + predictedLoss` so predicted and measured points share the loss axis.
    public var predictedLossIsIncrease: Bool
    public var points: [Point]

    public init(axis: CostAxis, budget: Budget? = nil, reference: Reference = Reference(),
                predictedLossIsIncrease: Bool = true, points: [Point] = []) {
        self.axis = axis
        self.budget = budget
        self.reference = reference
        self.predictedLossIsIncrease = predictedLossIsIncrease
        self.points = points
    }

    /// The cost kind of the x axis.
    public var costKind: CostKind { axis.kind }

    /// The points of one series, in stored order.
    public func points(in series: Series) -> [Point] { points.filter { $0.series == series } }

    /// The figure of a sweep: predicted points "plan 1..n" (cost order), a measured point for each of them with a
    /// measured loss, greedy points "greedy 1..m" and the given uniform points. Points whose assignment equals
    /// `chosen`'s are marked chosen; a chosen plan missing from the front is added to the predicted series as
    /// "chosen". `validation[i]` (optional) gives validation loss/accuracy of `front.points[i]`.
    public init(front: ParetoFront, axis: CostAxis? = nil, budget: Budget? = nil, chosen: Plan? = nil,
                uniform: [Point] = [], reference: Reference = Reference(), predictedLossIsIncrease: Bool = true,
                validation: [(loss: Double?, accuracy: Double?)] = []) {
        let rawMax = (front.points + front.greedy).map(\.cost).filter(\.isFinite).max() ?? 0
        let axis = axis ?? CostAxis.standard(for: front.kind, maxRawValue: rawMax)
        var points: [Point] = []
        let sorted = front.points.enumerated().sorted { $0.element.cost < $1.element.cost }
        var chosenFound = false
        for (rank, entry) in sorted.enumerated() {
            let p = entry.element
            let isChosen = chosen.map { $0.assignment == p.plan.assignment } ?? false
            chosenFound = chosenFound || isChosen
            let v = entry.offset < validation.count ? validation[entry.offset] : (loss: nil, accuracy: nil)
            let label = "plan \(rank + 1)"
            points.append(Point(pareto: p, series: .predicted, label: label, axis: axis, isChosen: isChosen,
                                validationLoss: v.loss, validationAccuracy: v.accuracy))
        }
        if let chosen, !chosenFound {
            points.append(Point(plan: chosen, series: .predicted, label: "chosen", axis: axis, isChosen: true))
        }
        for point in points where point.series == .predicted && point.measuredLoss != nil {
            var m = point
            m.series = .measured
            points.append(m)
        }
        for (i, g) in front.greedy.enumerated() {
            points.append(Point(pareto: g, series: .greedy, label: "greedy \(i + 1)", axis: axis))
        }
        points += uniform
        self.init(axis: axis, budget: budget, reference: reference, predictedLossIsIncrease: predictedLossIsIncrease,
                  points: points)
    }
}

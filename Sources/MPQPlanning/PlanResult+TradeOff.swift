import Foundation
import MPQPlanner
import MPQReport

extension PlanResult {
    /// The trade-off figure's data: every measured proposal (the ILP optima also as the predicted curve), the
    /// uniform points and the greedy baseline against the first budget's cost, with the chosen plan marked; nil
    /// without measurement.
    public func tradeOffCurve() -> TradeOffCurve? {
        guard let m = measurement else { return nil }
        let pareto = m.pareto?.points ?? []
        let axis = TradeOffCurve.CostAxis.standard(for: m.costKind, maxRawValue: (pareto + m.uniform + m.greedy).map(\.cost).max() ?? 0)
        let chosenNames = plan.candidateNames
        var points: [TradeOffCurve.Point] = []
        for p in pareto {
            let chosen = p.candidateNames == chosenNames
            // The predicted curve is the planner's own: the ILP optimum of each budget (rank 0).
            if p.proposal?.rank == 0 || p.proposal == nil { points.append(Self.curvePoint(p, .predicted, axis: axis, chosen: chosen)) }
            points.append(Self.curvePoint(p, .measured, axis: axis, chosen: chosen))
        }
        points += m.uniform.map { Self.curvePoint($0, .uniform, axis: axis) }
        points += m.greedy.map { Self.curvePoint($0, .greedy, axis: axis) }
        if !points.contains(where: \.isChosen) {
            points.append(TradeOffCurve.Point(series: .measured, label: "chosen", cost: axis.display(m.cost),
                                              predictedLoss: fp32Loss + plan.predictedLoss, measuredLoss: m.loss,
                                              validationLoss: m.validation?.loss, validationAccuracy: m.validation?.accuracy,
                                              candidateNames: chosenNames, isChosen: true))
        }
        let budget = request.primaryBudget
        return TradeOffCurve(axis: axis, budget: .init(text: budget.text, limit: Self.limit(budget, on: axis)),
                             reference: .init(label: "FP32", loss: fp32Loss, accuracy: prepared.validation?.referenceAccuracy),
                             predictedLossIsIncrease: false, points: points)
    }

    /// A plan point in `series`; uniform points carry no candidate list (their label names the candidate).
    static func curvePoint(_ p: PlanPoint, _ series: TradeOffCurve.Series, axis: TradeOffCurve.CostAxis,
                           chosen: Bool = false) -> TradeOffCurve.Point {
        TradeOffCurve.Point(series: series, label: p.label, cost: axis.display(p.cost), predictedLoss: p.predictedLoss,
                            measuredLoss: series == .predicted ? nil : p.measuredLoss, validationLoss: p.validation?.loss,
                            validationAccuracy: p.validation?.accuracy, candidateNames: series == .uniform ? nil : p.candidateNames,
                            isChosen: chosen, onFront: series == .measured ? p.proposal?.onFront : nil, rank: p.proposal?.rank,
                            tieBroken: p.proposal?.tieBroken, selected: p.proposal?.selected)
    }

    /// The budget's limit in axis units, when it limits the axis's cost kind (bits or size).
    static func limit(_ budget: BudgetConstraint, on axis: TradeOffCurve.CostAxis) -> Double? {
        guard budget.kind == axis.kind else { return nil }
        switch budget.target {
        case .averageWeightBits(let v): return v
        case .weightBytes(let v): return axis.display(v)
        default: return nil
        }
    }
}

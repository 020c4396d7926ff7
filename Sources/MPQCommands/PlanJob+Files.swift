import Foundation
import MPQPlanner
import MPQReport

extension PlanJob {
    /// Writes pareto.json, pareto.csv and pareto.svg: predicted and measured Pareto plans, uniform
    /// points and the greedy baseline, with the chosen plan marked.
    func writeParetoFiles(_ summary: PlanSummary) throws {
        guard let kindName = summary.costKind, let kind = CostKind(rawValue: kindName) else { return }
        let all = summary.pareto + summary.uniform + summary.greedy
        let axis = TradeOffCurve.CostAxis.standard(for: kind, maxRawValue: all.map(\.cost).max() ?? 0)
        func point(_ p: PlanSummary.Point, _ series: TradeOffCurve.Series, chosen: Bool = false) -> TradeOffCurve.Point {
            TradeOffCurve.Point(series: series, label: p.label, cost: axis.display(p.cost), predictedLoss: p.predictedLoss,
                                measuredLoss: series == .predicted ? nil : p.measuredLoss, validationLoss: nil,
                                validationAccuracy: nil, candidateNames: p.candidates, isChosen: chosen,
                                onFront: series == .measured ? p.onFront : nil, rank: p.rank, tieBroken: p.tieBroken,
                                selected: p.selected)
        }
        let chosenCandidates = summary.plan?.groups.map(\.candidate)
        var points: [TradeOffCurve.Point] = []
        for p in summary.pareto {
            let chosen = chosenCandidates != nil && p.candidates == chosenCandidates
            // The predicted curve is the planner's own: the ILP optimum of each budget (rank 0). Every measured
            // proposal is drawn measured, with the measured front marked.
            if p.rank == 0 || p.budgets == nil { points.append(point(p, .predicted, chosen: chosen)) }
            points.append(point(p, .measured, chosen: chosen))
        }
        points += summary.uniform.map { point($0, .uniform) }
        points += summary.greedy.map { point($0, .greedy) }
        if let chosenCost = summary.chosenCost, !points.contains(where: \.isChosen), let loss = summary.predictedLoss {
            points.append(TradeOffCurve.Point(series: .measured, label: "chosen", cost: axis.display(chosenCost), predictedLoss: loss,
                                              measuredLoss: summary.measuredLoss, validationLoss: nil, validationAccuracy: nil,
                                              candidateNames: chosenCandidates, isChosen: true))
        }
        let limit = summary.budgets.first.flatMap { text -> Double? in
            guard let b = try? BudgetConstraint.parse(text), b.kind == kind else { return nil }
            switch b.target {
            case .averageWeightBits(let v): return v
            case .weightBytes(let v): return axis.display(v)
            default: return nil
            }
        }
        let curve = TradeOffCurve(axis: axis, budget: .init(text: summary.budgets.first ?? "", limit: limit),
                                  reference: .init(label: "FP32", loss: summary.fp32Loss, accuracy: nil),
                                  predictedLossIsIncrease: false, points: points)
        let modelURL = URL(fileURLWithPath: summary.model)
        let modelName = modelURL.deletingLastPathComponent().lastPathComponent + "/" + modelURL.lastPathComponent
        let chart = TradeOffChart(curve: curve, title: "\(modelName) on \(summary.profile)")
        let report = PlanReport(data: reportData(summary, curve: curve), title: "Quantization plan: \(modelName) on \(summary.profile)")
        for (name, text) in [("pareto.json", try curve.json()), ("pareto.csv", curve.csv()), ("pareto.svg", chart.svg()),
                             ("report.html", report.html())] {
            let url = inputs.outputDir.appendingPathComponent(name)
            do {
                try Data(text.utf8).write(to: url, options: .atomic)
            } catch {
                throw OutputProblem(path: url.path, reason: error.localizedDescription)
            }
        }
    }

    /// The HTML report's view of a plan summary.
    func reportData(_ summary: PlanSummary, curve: TradeOffCurve?) -> PlanReportData {
        let budgets = summary.budgets.compactMap { try? BudgetConstraint.parse($0) }
        let costs = summary.costs.sorted { $0.key < $1.key }.map { key, value -> PlanReportData.Cost in
            let kind = CostKind(rawValue: key)
            let budget = budgets.first { $0.kind == kind }
            var fraction: Double? = nil
            if let budget, case .averageWeightBits(let limit) = budget.target { fraction = value / limit }
            if let budget, case .weightBytes(let limit) = budget.target { fraction = value / limit }
            if let budget, case .latencyMilliseconds(let limit) = budget.target { fraction = value / limit }
            return PlanReportData.Cost(kind: kind.map { "\($0)" } ?? key, value: kind?.format(value) ?? String(value),
                                       budget: budget?.text, fraction: fraction)
        }
        let groups = (summary.plan?.groups ?? []).map {
            PlanReportData.Group(name: $0.group, opTypes: $0.opTypes, candidate: $0.candidate, weightBits: $0.weightBits,
                                 activationBits: $0.activationBits, parameters: $0.parameters, macs: $0.macs, sensitivity: $0.sensitivity)
        }
        let refinement = summary.refinement.map {
            PlanReportData.Refinement(lossBefore: $0.lossBefore, lossAfterBiasCorrection: $0.lossAfterBiasCorrection,
                                      lossAfter: $0.lossAfter, evaluations: $0.evaluations,
                                      validationLossBefore: $0.validationBefore?.loss, validationLossAfter: $0.validationAfter?.loss,
                                      validationAccuracyBefore: $0.validationBefore?.accuracy, validationAccuracyAfter: $0.validationAfter?.accuracy)
        }
        return PlanReportData(model: summary.model, profile: summary.profile, lossName: summary.loss, budgets: summary.budgets,
                              costs: costs, fp32Loss: summary.fp32Loss, predictedLoss: summary.predictedLoss ?? summary.fp32Loss,
                              measuredLoss: summary.measuredLoss, groups: groups, candidates: summary.candidates,
                              sensitivities: summary.sensitivities, refinement: refinement, tradeOff: curve)
    }
}

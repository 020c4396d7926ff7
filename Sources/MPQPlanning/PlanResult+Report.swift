import Foundation
import MPQPlanner
import MPQReport

extension PlanResult {
    /// The HTML report's view of the result.
    public func reportData(tradeOff: TradeOffCurve?) -> PlanReportData {
        let groups = problem.groups.enumerated().map { g, group -> PlanReportData.Group in
            let c = problem.candidates[plan.assignment[g]]
            return PlanReportData.Group(name: group.name, opTypes: group.opTypes, candidate: c.name, weightBits: c.weightBits,
                                        activationBits: c.activationBits, parameters: group.layers.reduce(0) { $0 + $1.parameters },
                                        macs: group.layers.reduce(0) { $0 + $1.macs },
                                        sensitivity: sensitivities.increases[group.name]?[c.name] ?? nil)
        }
        let refinement = measurement?.refinement.map {
            PlanReportData.Refinement(lossBefore: $0.lossBefore, lossAfterBiasCorrection: $0.lossAfterBiasCorrection,
                                      lossAfter: $0.lossAfter, evaluations: $0.evaluations,
                                      validationLossBefore: $0.validationBefore?.loss, validationLossAfter: $0.validationAfter?.loss,
                                      validationAccuracyBefore: $0.validationBefore?.accuracy,
                                      validationAccuracyAfter: $0.validationAfter?.accuracy)
        }
        return PlanReportData(model: request.model, profile: request.profile.name, lossName: request.loss.name,
                              budgets: request.budgets.map(\.text), costs: reportCosts(), fp32Loss: fp32Loss,
                              predictedLoss: fp32Loss + plan.predictedLoss, measuredLoss: measurement?.loss, groups: groups,
                              candidates: problem.candidates.map(\.name), sensitivities: sensitivities.increases,
                              refinement: refinement, tradeOff: tradeOff)
    }

    /// The plan's costs by kind name, with the budget of that kind and the fraction of it used.
    func reportCosts() -> [PlanReportData.Cost] {
        plan.costs.sorted { $0.key.rawValue < $1.key.rawValue }.map { kind, value in
            let budget = request.budgets.first { $0.kind == kind }
            var fraction: Double? = nil
            switch budget?.target {
            case .averageWeightBits(let limit)?, .weightBytes(let limit)?, .latencyMilliseconds(let limit)?: fraction = value / limit
            default: break
            }
            return PlanReportData.Cost(kind: "\(kind)", value: kind.format(value), budget: budget?.text, fraction: fraction)
        }
    }

    /// The model as "folder/file.onnx", for titles.
    var modelTitle: String {
        let url = URL(fileURLWithPath: request.model)
        return url.deletingLastPathComponent().lastPathComponent + "/" + url.lastPathComponent
    }

    /// Writes plan.json, and with measurement pareto.json, pareto.csv, pareto.svg and report.html, into the
    /// request's output directory.
    public func write() throws {
        let directory = request.outputDirectory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.write(directory.appendingPathComponent("plan.json")) { try PlanFile(result: self).write(to: $0) }
        guard let curve = tradeOffCurve() else { return }
        let title = "\(modelTitle) on \(request.profile.name)"
        let chart = TradeOffChart(curve: curve, title: title, lossAxis: .logarithmicIncrease)
        let report = PlanReport(data: reportData(tradeOff: curve), title: "Quantization plan: \(title)")
        for (name, text) in [("pareto.json", try curve.json()), ("pareto.csv", curve.csv()), ("pareto.svg", chart.svg()),
                             ("report.html", report.html())] {
            try Self.write(directory.appendingPathComponent(name)) { try Data(text.utf8).write(to: $0, options: .atomic) }
        }
    }

    private static func write(_ url: URL, _ body: (URL) throws -> Void) throws {
        do {
            try body(url)
        } catch {
            throw PlanOutputError(path: url.path, reason: error.localizedDescription)
        }
    }
}

/// An output file of a plan could not be written.
public struct PlanOutputError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}

import Foundation

extension PlanJob {
    /// Writes pareto.json and pareto.csv (cost, predicted and measured loss of every point).
    func writeParetoFiles(_ summary: PlanSummary) throws {
        guard !summary.pareto.isEmpty || !summary.uniform.isEmpty else { return }
        struct Curve: Codable {
            var costKind: String?
            var chosenCost: Double?
            var fp32Loss: Double
            var pareto: [PlanSummary.Point]
            var uniform: [PlanSummary.Point]
            var greedy: [PlanSummary.Point]
        }
        let curve = Curve(costKind: summary.costKind, chosenCost: summary.chosenCost, fp32Loss: summary.fp32Loss,
                          pareto: summary.pareto, uniform: summary.uniform, greedy: summary.greedy)
        try JSONOutput.write(curve, to: inputs.outputDir.appendingPathComponent("pareto.json").path)
        var csv = "series,label,cost,predicted_loss,measured_loss,candidates\n"
        for (series, points) in [("pareto", summary.pareto), ("uniform", summary.uniform), ("greedy", summary.greedy)] {
            for p in points {
                let candidates = (p.candidates ?? []).joined(separator: ";")
                csv += "\(series),\(p.label),\(p.cost),\(p.predictedLoss),\(p.measuredLoss.map { String($0) } ?? ""),\(candidates)\n"
            }
        }
        do {
            try Data(csv.utf8).write(to: inputs.outputDir.appendingPathComponent("pareto.csv"), options: .atomic)
        } catch {
            throw OutputProblem(path: inputs.outputDir.appendingPathComponent("pareto.csv").path, reason: error.localizedDescription)
        }
    }
}

import Foundation
import MPQPlanner
import MPQPlanning

extension PlanFile {
    /// Prints the plan for people: its groups, budget use, losses, refinement and how it compares.
    func printText() {
        printSetting()
        printGroups()
        printLosses()
        printComparisons()
    }

    private func printSetting() {
        print("model: \(model)   profile: \(profile)   loss: \(loss)   budgets: \(budgets.joined(separator: ", "))")
        if let pins { print("pinned: \(pins.joined(separator: ", "))") }
        if !floatOnlyGroups.isEmpty { print("float-only (not quantized): \(floatOnlyGroups.joined(separator: ", "))") }
        if !floatTensors.isEmpty {
            let ops = Set(floatTensors.map(\.floatOp)).sorted()
            print("kept in float by the policy: \(floatTensors.count) layer output(s) that feed \(ops.joined(separator: "/")) "
                  + "(e.g. \(floatTensors[0].name) \(floatTensors[0].reason))")
        }
        if !ties.isEmpty { print("tied groups (equal precision): \(ties.map { $0.joined(separator: " = ") }.joined(separator: "; "))") }
    }

    private func printGroups() {
        var table = TextTable(header: ["group", "op", "candidate", "params", "MACs", "sensitivity"])
        table.numericColumns = [3, 4, 5]
        for g in plan?.groups ?? [] {
            table.rows.append([g.group, g.opTypes.joined(separator: "+"), g.candidate, grouped(g.parameters), grouped(g.macs),
                               g.sensitivity.map { String(format: "%.5f", $0) } ?? "-"])
        }
        print(table.render())
        let costText = costs.sorted { $0.key < $1.key }.map { k, v in
            "\(k) \(CostKind(rawValue: k)?.format(v) ?? String(v))"
        }.joined(separator: ", ")
        print("budget use: \(costText)   (BOPs reference: \(bopsReference))")
    }

    private func printLosses() {
        print(String(format: "FP32 loss %.4f; predicted %.4f", fp32Loss, predictedLoss ?? .nan)
              + (measuredLoss.map { String(format: "; measured %.4f (+%.4f over FP32)", $0, $0 - fp32Loss) } ?? ""))
        if let v = validation {
            print("validation: loss \(String(format: "%.4f", v.loss))" + (v.accuracy.map { String(format: ", accuracy %.2f%%", 100 * $0) } ?? "")
                  + (v.minCosine.map { String(format: ", lowest per-sample cosine to FP32 %.4f", $0) } ?? "")
                  + (v.agreement.map { a in String(format: ", top-1 agreement with FP32 %.2f%%", 100 * a.top1)
                      + (a.top5.map { String(format: ", top-5 %.2f%%", 100 * $0) } ?? "") } ?? ""))
        }
        if let r = refinement {
            print(String(format: "refinement (bias correction + Powell, %d evaluations, %.1f s): loss %.5f -> %.5f (bias correction alone %.5f)",
                         r.evaluations, r.seconds, r.lossBefore, r.lossAfter, r.lossAfterBiasCorrection)
                  + (r.validationAfter.map { v in String(format: "; validation loss %.4f -> %.4f", r.validationBefore?.loss ?? .nan, v.loss) } ?? "")
                  + (r.heldOutGainText.map { "; \($0)" } ?? ""))
        }
    }

    private func printComparisons() {
        if let u = bestUniformAtCost, let m = measuredLoss, let um = u.measuredLoss {
            print(String(format: "best uniform point at no higher cost: %@ with loss %.4f (plan is %@ by %.4f)",
                         u.label, um, m <= um ? "better" : "worse", abs(um - m)))
        } else if measuredLoss != nil {
            print("no uniform point is as cheap as this plan")
        }
        if let chosenProposals, chosenProposals.count > 1, let best = chosenProposals.first(where: { $0.selected == true }) {
            let losses = chosenProposals.map { p in
                String(format: "%.4g", p.measuredLoss ?? .nan) + " (" + (p.rank.map { "rank \($0 + 1)" } ?? "tie-break") + ")"
            }
            print("measured ILP proposals at the budget: \(losses.joined(separator: ", ")); best: "
                  + (best.rank.map { "rank \($0 + 1)" } ?? "the tie-break's plan"))
        }
        if let chosenLabel, let m = measuredLoss, !pareto.isEmpty, (proposalsPerBudget ?? 1) > 1 {
            print("chosen: \(chosenLabel) of the Pareto sweep, the best measured ILP proposal that meets the budgets"
                  + String(format: " (loss %.4g)", m))
        }
        if !pareto.isEmpty {
            let front = pareto.filter { $0.onFront ?? true }.count
            print("Pareto curve: \(sweepPlansMeasured ?? pareto.count) distinct ILP plans measured out of \(sweepProposals ?? pareto.count) proposals "
                  + "(\(proposalsPerBudget ?? 1) best per budget), \(front) on the measured front; greedy baseline: \(greedy.count) points")
        }
    }
}

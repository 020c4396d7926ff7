import Foundation
import MPQLAPQ
import MPQPlanner
import MPQQuantization
import MPQSensitivity

/// What `mpq plan` reports and writes as plan.json.
struct PlanSummary: Codable {
    /// One group's choice.
    struct GroupChoice: Codable {
        var group: String
        var layers: [String]
        var opTypes: [String]
        var candidate: String
        var weightBits: Int
        var activationBits: Int
        var parameters: Int
        var macs: Int
        /// Predicted loss increase of this group at its candidate.
        var sensitivity: Double?
    }

    struct PlannedGroups: Codable {
        var groups: [GroupChoice]

        init(problem: PlanningProblem, plan: Plan, sensitivities: SensitivityTable) {
            groups = problem.groups.enumerated().map { g, group in
                let c = problem.candidates[plan.assignment[g]]
                return GroupChoice(group: group.name, layers: group.layers.map(\.name), opTypes: group.opTypes,
                                   candidate: c.name, weightBits: c.weightBits, activationBits: c.activationBits,
                                   parameters: group.layers.reduce(0) { $0 + $1.parameters },
                                   macs: group.layers.reduce(0) { $0 + $1.macs },
                                   sensitivity: sensitivities.increases[group.name]?[c.name] ?? nil)
            }
        }
    }

    /// A point of the trade-off curve.
    struct Point: Codable {
        var label: String
        var cost: Double
        var predictedLoss: Double
        var measuredLoss: Double?
        /// For uniform points: false when some groups could not take the candidate and took the nearest allowed one.
        var exact: Bool
        var candidates: [String]? = nil
        var validation: ValidationMetrics? = nil
        /// For ILP proposals: the swept budget limits (cost-kind units) whose proposals included this plan.
        var budgets: [Double]? = nil
        /// For ILP proposals: the best rank among the k best by predicted loss (0: an ILP optimum); nil when only
        /// the tie-break proposed it.
        var rank: Int? = nil
        /// For ILP proposals: whether the BOPs tie-break proposed it.
        var tieBroken: Bool? = nil
        /// For ILP proposals: whether it measured best among the proposals of some budget.
        var selected: Bool? = nil
        /// For ILP proposals: whether it is on the measured Pareto front (the lower envelope of all measured proposals).
        var onFront: Bool? = nil
    }

    /// Loss and accuracy before and after the joint refinement of the chosen plan.
    struct Refinement: Codable {
        var lossBefore: Double
        var lossAfterBiasCorrection: Double
        var lossAfter: Double
        var evaluations: Int
        var seconds: Double
        var validationBefore: ValidationMetrics?
        var validationAfter: ValidationMetrics?
        /// Whether the corrected biases were kept (they are dropped when they raise the loss).
        var biasCorrected: Bool? = nil
    }

    var model: String
    var profile: String
    var loss: String
    var budgets: [String]
    /// Calibration data and labels the plan was made with (for `mpq refine`).
    var calib: [String] = []
    var labels: String? = nil
    var batchSize: Int = 256
    /// Candidate names, and the measured loss increase of every group at each (nil: not allowed).
    var candidates: [String] = []
    var sensitivities: [String: [String: Double?]] = [:]
    var fp32Loss: Double
    var bopsReference: String
    var floatOnlyGroups: [String]
    /// Layer outputs kept in float because they feed a float-only op (e.g. attention scores into Softmax).
    var floatTensors: [QuantizationPolicy.FloatTensor] = []
    var ties: [[String]]
    var plan: PlannedGroups? = nil
    var costs: [String: Double] = [:]
    var predictedLoss: Double? = nil
    var measuredLoss: Double? = nil
    /// The calibration loss after LAPQ's whole-model step search on the chosen plan (its own activation
    /// ranges with everything upstream quantized); `measuredLoss` is the loss the plan was chosen by.
    var stepSearchLoss: Double? = nil
    var validation: ValidationMetrics? = nil
    var refinement: Refinement? = nil
    var costKind: String? = nil
    var chosenCost: Double? = nil
    /// Plans the ILP proposed per budget value (the k best by predicted loss; measurement picks one).
    var proposalsPerBudget: Int? = nil
    /// The proposals at the plan's own budget, measured; `selected` marks the best of them.
    var chosenProposals: [Point]? = nil
    /// The chosen plan's label among the measured Pareto proposals ("plan 9"), or among `chosenProposals` without a
    /// sweep. With a sweep the plan is the best measured ILP proposal meeting every budget, which may come from a
    /// cheaper budget value than the plan's own.
    var chosenLabel: String? = nil
    /// Proposals over all swept budgets (repeats included) and the distinct plans among them that were measured.
    var sweepProposals: Int? = nil
    var sweepPlansMeasured: Int? = nil
    /// Wall seconds per phase (sensitivities, proposals, refinement, uniform, pareto, greedy).
    var seconds: [String: Double]? = nil
    var uniform: [Point] = []
    /// Every measured ILP proposal of the sweep, by cost; `onFront` marks the measured Pareto front.
    var pareto: [Point] = []
    var greedy: [Point] = []
    var tensors: [QuantizerRecord] = []
    /// Bias values after bias correction, by initializer name.
    var correctedBiases: [String: [Float]] = [:]

    /// Reads a plan.json written by `mpq plan`; it must hold measured steps.
    static func load(_ path: String) throws -> PlanSummary {
        guard FileManager.default.fileExists(atPath: path) else { throw UsageProblem("\(path): no such plan file") }
        let summary: PlanSummary
        do {
            summary = try JSONDecoder().decode(PlanSummary.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw UsageProblem("\(path) is not a plan written by `mpq plan` (\(error))")
        }
        guard !summary.tensors.isEmpty else {
            throw UsageProblem("\(path) has no measured steps; run `mpq plan` without --no-measure")
        }
        return summary
    }

    /// The best measured uniform point whose cost is no higher than the plan's.
    var bestUniformAtCost: Point? {
        guard let chosenCost else { return nil }
        return uniform.filter { $0.cost <= chosenCost * (1 + 1e-9) && $0.measuredLoss != nil }
            .min { $0.measuredLoss! < $1.measuredLoss! }
    }

    func printText() {
        print("model: \(model)   profile: \(profile)   loss: \(loss)   budgets: \(budgets.joined(separator: ", "))")
        if !floatOnlyGroups.isEmpty { print("float-only (not quantized): \(floatOnlyGroups.joined(separator: ", "))") }
        if !floatTensors.isEmpty {
            let ops = Set(floatTensors.map(\.floatOp)).sorted()
            print("kept in float by the policy: \(floatTensors.count) layer output(s) that feed \(ops.joined(separator: "/")) "
                  + "(e.g. \(floatTensors[0].name) \(floatTensors[0].reason))")
        }
        if !ties.isEmpty { print("tied groups (equal precision): \(ties.map { $0.joined(separator: " = ") }.joined(separator: "; "))") }
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
        print(String(format: "FP32 loss %.4f; predicted %.4f", fp32Loss, predictedLoss ?? .nan)
              + (measuredLoss.map { String(format: "; measured %.4f (+%.4f over FP32)", $0, $0 - fp32Loss) } ?? ""))
        if let v = validation {
            print("validation: loss \(String(format: "%.4f", v.loss))" + (v.accuracy.map { String(format: ", accuracy %.2f%%", 100 * $0) } ?? "")
                  + (v.minCosine.map { String(format: ", lowest per-sample cosine to FP32 %.4f", $0) } ?? ""))
        }
        if let r = refinement {
            print(String(format: "refinement (bias correction + Powell, %d evaluations, %.1f s): loss %.5f -> %.5f (bias correction alone %.5f)",
                         r.evaluations, r.seconds, r.lossBefore, r.lossAfter, r.lossAfterBiasCorrection)
                  + (r.validationAfter.map { v in String(format: "; validation loss %.4f -> %.4f", r.validationBefore?.loss ?? .nan, v.loss) } ?? ""))
        }
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

/// Validation loss (same loss as calibration, against the FP32 validation outputs) and accuracy.
struct ValidationMetrics: Codable {
    var loss: Double
    var accuracy: Double?
    /// The lowest per-sample cosine similarity to the FP32 outputs (with the cosine loss).
    var minCosine: Double? = nil
}

import Foundation
import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQPlanner
import MPQQuantization
import MPQSensitivity

extension PlanJob {
    /// Sensitivities (from the cache when valid), the plan, and — when `measure` — measured losses
    /// of the plan, the uniform points, the Pareto plans and the greedy baseline.
    mutating func run(paretoPoints: Int, measure: Bool, refine: Bool, refineEvaluations: Int) throws -> PlanSummary {
        var clock = Date()
        var seconds: [String: Double] = [:]
        func lap(_ phase: String) {
            let now = Date()
            seconds[phase, default: 0] += now.timeIntervalSince(clock)
            clock = now
        }
        let table = try sensitivities()
        lap("sensitivities")
        var problem = self.problem
        problem.sensitivities = table.regularizedMatrix(precision: problem.candidates.map { ($0.weightBits, $0.activationBits) })
        var planner = try MixedPrecisionPlanner(problem: problem, profile: inputs.profile)
        let model = planner.model
        let k = inputs.proposals
        // One proposal: the tie-break (off by default) replaces the optimum, as it always did. Several: the tie-broken
        // plan (1% by default) is one more proposal and measurement decides.
        if k == 1, let t = inputs.tieTolerance, t > 0 { planner.tieBreak = .init(cost: .bops, relativeTolerance: t) }
        let tolerance = k > 1 ? (inputs.tieTolerance ?? 0.01) : 0
        let proposalTieBreak: MixedPrecisionPlanner.TieBreak? = tolerance > 0 && model.supports(.bops)
            ? .init(cost: .bops, relativeTolerance: tolerance) : nil
        let fp32Loss = table.referenceLoss
        let kind = inputs.budgets[0].kind
        let limits = try inputs.budgets.map { ($0.kind, try $0.limit(in: model)) }
        func meetsBudgets(_ plan: Plan) -> Bool {
            limits.allSatisfy { kind, limit in plan.costs[kind].map { $0 <= CostKind.withTolerance(limit) } ?? false }
        }

        let measurement = PlanMeasurement(grouping: grouping, candidates: problem.candidates, search: search)
        var measured: [[Int]: (Double, ValidationMetrics?)] = [:]
        // The full result (steps, session state) of the best plan measured so far that meets the budgets, so the
        // chosen plan need not be measured twice in the common case.
        var bestResult: (assignment: [Int], result: StepSearchResult)? = nil
        let biases = search.biases(in: session.graph)
        // Plans measured by earlier runs on the same inputs are not measured again.
        let (storeURL, storeKey) = measurementStore(tableKey: table.key)
        var store = MeasuredPlanStore.load(from: storeURL, key: storeKey)
        func measureLoss(_ assignment: [Int], keepIfBest: Bool = false) throws -> (Double, ValidationMetrics?) {
            if let m = measured[assignment] { return m }
            if let entry = store[assignment] {
                measured[assignment] = (entry.loss, entry.validation)
                return (entry.loss, entry.validation)
            }
            let m: (Double, ValidationMetrics?)
            if inputs.measurement == .composed, let quantizers = measurement.composedQuantizers(for: assignment, table: table) {
                m = (try measurement.composedLoss(quantizers, session: session), try validate(StepSearch.settings(quantizers, biases: biases)))
            } else {
                let result = try measurement.measure(assignment, session: &session, probe: &probe)
                m = (result.loss, try validate(StepSearch.settings(result.quantizers, biases: biases)))
                if keepIfBest, bestResult.map({ result.loss < $0.result.loss }) ?? true { bestResult = (assignment, result) }
            }
            measured[assignment] = m
            store[assignment] = .init(loss: m.0, validation: m.1)
            try store.save(to: storeURL)
            return m
        }
        func point(_ e: MeasuredFront.Entry, label: String) -> PlanSummary.Point {
            PlanSummary.Point(label: label, cost: e.cost, predictedLoss: fp32Loss + e.predictedLoss, measuredLoss: e.measuredLoss,
                              exact: true, candidates: e.plan.candidateNames, validation: measured[e.plan.assignment]?.1,
                              budgets: e.budgetLimits, rank: e.bestRank, tieBroken: e.tieBroken, selected: e.selected,
                              onFront: e.onFront)
        }

        // Without measurement the plan is the ILP optimum. With it, the ILP proposes at the plan's budget (and at every
        // budget value of the sweep), every proposal is measured, and the plan is the best measured proposal that
        // meets the budgets: at the budget itself, or — with a sweep and more than one proposal per budget — anywhere
        // on it (a cheaper plan may measure better).
        var plan = try planner.plan(budgets: inputs.budgets)
        var chosenProposals: [PlanSummary.Point]? = nil
        var summaryUniform: [PlanSummary.Point] = []
        var summaryPareto: [PlanSummary.Point] = []
        var summaryGreedy: [PlanSummary.Point] = []
        var sweepCounts: (proposals: Int, plans: Int)? = nil
        var greedy: [ParetoPoint] = []
        if measure {
            let proposals = try planner.proposals(budgets: inputs.budgets, count: k, tieBreak: proposalTieBreak)
            let own = BudgetProposals(limit: limits[0].1, proposals: proposals)
            var progress = Progress(label: "measuring \(proposals.count) proposals at the budget", total: proposals.count)
            var done = 0
            let atBudget = try MeasuredFront(kind: kind, budgets: [own]) { assignment in
                let loss = try measureLoss(assignment, keepIfBest: true).0
                done += 1
                progress.update(done)
                return loss
            }
            plan = atBudget.entries[atBudget.selections[0].entry].plan
            chosenProposals = atBudget.selections[0].proposals.enumerated().map { n, i in
                var p = point(atBudget.entries[i], label: "proposal \(n + 1)")
                p.onFront = nil
                return p
            }
            lap("proposals")

            // Uniform points: one candidate everywhere it is allowed (the nearest allowed one elsewhere).
            for (c, candidate) in problem.candidates.enumerated() {
                let assignment = problem.groups.indices.map { g in Self.nearest(c, in: problem.effectiveAllowed(g), candidates: problem.candidates) }
                guard Self.respectsTies(assignment, problem.tiedGroups) else { continue }
                let (loss, validation) = try measureLoss(assignment)
                summaryUniform.append(.init(label: candidate.name, cost: model.value(kind, assignment: assignment),
                                            predictedLoss: fp32Loss + model.predictedLoss(assignment: assignment),
                                            measuredLoss: loss, exact: assignment.allSatisfy { $0 == c }, validation: validation))
                FileHandle.standardError.write(Data("measured uniform \(candidate.name): loss \(String(format: "%.4f", loss))\n".utf8))
            }
            lap("uniform")

            if paretoPoints > 0 {
                let sweep = ParetoSweep(planner: planner, kind: kind, pointCount: paretoPoints, fixedBudgets: Array(inputs.budgets.dropFirst()),
                                        proposalCount: k, tieBreakProposal: proposalTieBreak)
                let front = try sweep.run()
                // The greedy baseline is measured near each Pareto cost; the ILP also proposes plans at each greedy
                // point's own cost (unless a swept value is that cost already), so the two are compared at equal budgets.
                greedy = Self.subsample(front.greedy, near: front.points.map(\.cost))
                var budgets = front.proposals
                for g in greedy {
                    let limit = g.cost * (1 + 1e-9)
                    guard !budgets.contains(where: { $0.limit >= g.cost && $0.limit <= limit }),
                          let extra = try? sweep.proposals(at: limit) else { continue }
                    budgets.append(extra)
                }
                // The plan's own budget is one more point of the curve.
                budgets.append(own)
                let pending = Set(budgets.flatMap { $0.proposals.map(\.plan.assignment) }).filter { measured[$0] == nil }.count
                var progress = Progress(label: "measuring Pareto proposals", total: pending)
                var done = 0
                let curve = try MeasuredFront(kind: kind, budgets: budgets) { assignment in
                    let fresh = measured[assignment] == nil
                    let loss = try measureLoss(assignment).0
                    if fresh { done += 1; progress.update(done) }
                    return loss
                }
                summaryPareto = curve.entries.enumerated().map { i, e in point(e, label: "plan \(i + 1)") }
                sweepCounts = (curve.proposalCount, curve.entries.count)
                FileHandle.standardError.write(Data("Pareto sweep: \(curve.proposalCount) proposals at \(budgets.count) budgets, \(curve.entries.count) distinct plans measured, \(curve.front.count) on the measured front\n".utf8))
                // With several proposals, any measured proposal that meets every budget may be the plan (ties keep the
                // cheaper one); with one, the plan stays the ILP optimum at its budget, as without proposals.
                if k > 1, let best = curve.entries.filter({ meetsBudgets($0.plan) }).min(by: { ($0.measuredLoss, $0.cost) < ($1.measuredLoss, $1.cost) }),
                   best.measuredLoss < measured[plan.assignment]!.0 {
                    plan = best.plan
                }
                lap("pareto")
            }
        }

        var summary = PlanSummary(model: inputs.model, profile: inputs.profile.name, loss: lossKind.name,
                                  budgets: inputs.budgets.map(\.text), fp32Loss: fp32Loss,
                                  bopsReference: model.referenceDescription, floatOnlyGroups: floatOnlyGroups,
                                  ties: grouping.ties.map { $0.map { grouping.groups[$0].name } })
        summary.floatTensors = floatTensors
        summary.plan = PlanSummary.PlannedGroups(problem: problem, plan: plan, sensitivities: table)
        summary.calib = inputs.calib.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        summary.labels = inputs.labels.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        summary.batchSize = inputs.batchSize
        summary.candidates = problem.candidates.map(\.name)
        summary.sensitivities = table.increases
        summary.costs = Dictionary(plan.costs.map { ($0.key.rawValue, $0.value) }, uniquingKeysWith: { a, _ in a })
        summary.predictedLoss = fp32Loss + plan.predictedLoss
        summary.proposalsPerBudget = k
        summary.chosenProposals = chosenProposals
        summary.uniform = summaryUniform
        summary.pareto = summaryPareto
        summary.sweepProposals = sweepCounts?.proposals
        summary.sweepPlansMeasured = sweepCounts?.plans
        summary.chosenLabel = summaryPareto.first { $0.candidates == plan.candidateNames }?.label
            ?? chosenProposals?.first { $0.candidates == plan.candidateNames }?.label

        var measuredQuantizers: [TensorQuantizer] = []
        var measuredMultipliers: [Double] = []
        if measure {
            // The chosen plan's steps: LAPQ's whole-model search (kept from its measurement when proposals were
            // measured that way and it was the best at its budget).
            let chosen: StepSearchResult
            if let kept = bestResult, kept.assignment == plan.assignment {
                chosen = kept.result
            } else {
                chosen = try measurement.measure(plan.assignment, session: &session, probe: &probe)
            }
            bestResult = nil
            lap("chosen")
            let chosenValidation = measured[plan.assignment]?.1
            // The loss the plan was chosen by (composed or searched), and LAPQ's whole-model search on it;
            // refinement starts from whichever quantizers measured lower.
            let selectionLoss = measured[plan.assignment]?.0 ?? chosen.loss
            var initial = (quantizers: chosen.quantizers, multipliers: chosen.multipliers, loss: chosen.loss)
            if inputs.measurement == .composed, selectionLoss < chosen.loss,
               let composed = measurement.composedQuantizers(for: plan.assignment, table: table) {
                initial = (composed, composed.map { _ in 1 }, selectionLoss)
            }
            measuredQuantizers = initial.quantizers
            measuredMultipliers = initial.multipliers
            summary.measuredLoss = selectionLoss
            summary.stepSearchLoss = chosen.loss
            summary.validation = chosenValidation
            if refine {
                // LAPQ's last step on the chosen plan: bias correction and Powell over all its steps,
                // stopped early on held-out calibration samples; losses reported on all calibration data.
                var refineProgress: Progress? = nil
                let start = Date()
                let outcome = try JointRefinement(optimizer: .powell, maxEvaluations: refineEvaluations, biasCorrection: true,
                                                  lossKind: lossKind)
                    .run(initial.quantizers, graph: session.graph, calibration: calibration, batchSize: inputs.batchSize) { done, total in
                        if refineProgress == nil { refineProgress = Progress(label: "refining", total: total) }
                        refineProgress?.update(done)
                    }
                let settings = StepSearch.settings(outcome.quantizers, multipliers: outcome.multipliers, biasCorrection: outcome.correction,
                                                   biases: biases)
                let biasOnly = StepSearch.settings(outcome.quantizers, biasCorrection: outcome.correction, biases: biases)
                summary.refinement = .init(lossBefore: initial.loss,
                                           lossAfterBiasCorrection: search.loss(of: try session.evaluate(biasOnly), in: session),
                                           lossAfter: search.loss(of: try session.evaluate(settings), in: session),
                                           evaluations: outcome.evaluations, seconds: Date().timeIntervalSince(start),
                                           validationBefore: chosenValidation, validationAfter: try validate(settings),
                                           biasCorrected: outcome.biasCorrected)
                measuredMultipliers = outcome.multipliers
                // Biases that absorbed the weights' expected output shift (the weights stay on their grid), in
                // float: the export puts them on their int32 grid as the simulation did.
                let quantized = Set(outcome.quantizers.map(\.name))
                let corrected = StepSearch.settings(outcome.quantizers, multipliers: outcome.multipliers,
                                                    biasCorrection: outcome.correction, biases: .none)
                for (name, setting) in corrected where !quantized.contains(name) {
                    if let bias = session.graph.initializers[name] { summary.correctedBiases[name] = setting.transform(bias).floats }
                }
                lap("refinement")
            }
            var greedyProgress = Progress(label: "measuring greedy baseline", total: greedy.count)
            for (i, point) in greedy.enumerated() {
                let (loss, validation) = try measureLoss(point.plan.assignment)
                summaryGreedy.append(.init(label: "greedy \(i + 1)", cost: point.cost, predictedLoss: fp32Loss + point.predictedLoss,
                                           measuredLoss: loss, exact: true, candidates: point.plan.candidateNames, validation: validation))
                greedyProgress.update(i + 1)
            }
            summary.greedy = summaryGreedy
            if !greedy.isEmpty { lap("greedy") }
            summary.costKind = kind.rawValue
            summary.chosenCost = model.value(kind, assignment: plan.assignment)
        }
        summary.seconds = measure ? seconds : nil
        summary.tensors = zip(measuredQuantizers, measuredMultipliers).map {
            QuantizerRecord($0, multiplier: $1, group: groupName(of: $0.name))
        }
        try FileManager.default.createDirectory(at: inputs.outputDir, withIntermediateDirectories: true)
        try JSONOutput.write(summary, to: inputs.outputDir.appendingPathComponent("plan.json").path)
        try writeParetoFiles(summary)
        return summary
    }

    private func groupName(of tensor: String) -> String {
        grouping.groups.first { $0.tensors.contains { $0.name == tensor } }?.name ?? "?"
    }

    /// Loads the cached table when its key matches, and measures what is missing.
    mutating func sensitivities() throws -> SensitivityTable {
        let (key, description) = try cacheKey()
        let store = inputs.cacheDir.appendingPathComponent("sensitivity-\(key).json")
        var table: SensitivityTable
        if let stored = try SensitivityTable.load(from: store), stored.key == key {
            table = stored
        } else {
            let fp32 = search.loss(of: session.reference, in: session)
            table = SensitivityTable(key: key, description: description, groups: grouping.groups.map(\.name),
                                     candidates: problem.candidates.map(\.name), referenceLoss: fp32)
        }
        let missing = table.groups.filter { table.increases[$0] == nil }.count
        if missing == 0 {
            FileHandle.standardError.write(Data("sensitivities: reusing \(store.path)\n".utf8))
            return table
        }
        FileHandle.standardError.write(Data("sensitivities: measuring \(missing) of \(table.groups.count) groups × \(problem.candidates.count) candidates (cache: \(store.path))\n".utf8))
        let allowed = problem.groups.indices.map { problem.effectiveAllowed($0) }
        let sweep = SensitivitySweep(grouping: grouping, candidates: problem.candidates, allowed: allowed,
                                     search: search, baseline: inputs.baseline)
        var progress = Progress(label: "sensitivity", total: table.groups.count)
        try sweep.run(&table, session: &session, probe: &probe, store: store) { done, _ in progress.update(done) }
        return table
    }

    /// Where measured plans are stored, and their key: the sensitivity table's key plus the validation data.
    func measurementStore(tableKey: String) -> (URL, String) {
        var hash = ContentHash()
        hash.combine(tableKey)
        if let validation {
            for name in validation.data.inputs.keys.sorted() { hash.combine(validation.data.inputs[name]!.asFloats) }
            if let labels = validation.data.labels { hash.combine(labels) }
        }
        hash.combine("measured-plans;v2;\(inputs.measurement.rawValue)")
        return (inputs.cacheDir.appendingPathComponent("measured-\(hash.hex).json"), hash.hex)
    }

    /// The allowed candidate closest to `c` in bit cost (not above it when possible).
    static func nearest(_ c: Int, in allowed: [Int], candidates: [Candidate]) -> Int {
        if allowed.contains(c) { return c }
        let target = candidates[c].bitProduct
        let below = allowed.filter { candidates[$0].bitProduct <= target }
        let pool = below.isEmpty ? allowed : below
        return pool.min { abs(candidates[$0].bitProduct - target) < abs(candidates[$1].bitProduct - target) } ?? c
    }

    static func respectsTies(_ assignment: [Int], _ ties: [[Int]]) -> Bool {
        ties.allSatisfy { set in Set(set.map { assignment[$0] }).count <= 1 }
    }

    /// At most one greedy point per target cost: the cheapest one at or below it.
    static func subsample(_ points: [ParetoPoint], near costs: [Double]) -> [ParetoPoint] {
        var chosen: [ParetoPoint] = []
        for cost in costs {
            if let p = points.filter({ $0.cost <= cost * (1 + 1e-9) }).max(by: { $0.cost < $1.cost }),
               !chosen.contains(where: { $0.plan.assignment == p.plan.assignment }) {
                chosen.append(p)
            }
        }
        return chosen.sorted { $0.cost < $1.cost }
    }

    /// Validation loss and accuracy under `settings`, when validation data was given.
    func validate(_ settings: [String: QuantizerSetting]) throws -> ValidationMetrics? {
        guard let validation else { return nil }
        var hooks = TensorHooks()
        for (name, s) in settings { hooks[name] = s.transform }
        let runner = try BatchRunner(graph: session.graph, sampleShapes: validation.data.sampleShapes,
                                     sampleCount: validation.data.sampleCount, batchSize: inputs.batchSize)
        let name = session.graph.outputs[0].name
        guard let out = try runner.run(validation.data.inputs, hooks: hooks)[name] else { return nil }
        let loss = try lossKind.evaluate(out, reference: validation.reference, labels: validation.data.labels)
        var accuracy: Double? = nil
        if let labels = validation.data.labels, out.rank == 2, let scores = out.floats {
            accuracy = ClassificationMetrics(scores: scores, classes: out.shape[1], labels: labels).accuracy
        }
        // For embedding models, the worst sample matters as much as the mean.
        let minCosine = lossKind == .cosineDistance
            ? try CalibrationLoss.rowCosineSimilarities(reference: validation.reference, quantized: out).min() : nil
        return ValidationMetrics(loss: loss, accuracy: accuracy, minCosine: minCosine)
    }
}

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
        let table = try sensitivities()
        var problem = self.problem
        problem.sensitivities = table.regularizedMatrix(precision: problem.candidates.map { ($0.weightBits, $0.activationBits) })
        var planner = try MixedPrecisionPlanner(problem: problem, profile: inputs.profile)
        if inputs.tieTolerance > 0 { planner.tieBreak = .init(cost: .bops, relativeTolerance: inputs.tieTolerance) }
        let model = planner.model
        let plan = try planner.plan(budgets: inputs.budgets)
        let fp32Loss = table.referenceLoss

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

        var measuredQuantizers: [TensorQuantizer] = []
        var measuredMultipliers: [Double] = []
        if measure {
            let biases = search.biases(in: session.graph)
            let measurement = PlanMeasurement(grouping: grouping, candidates: problem.candidates, search: search)
            var measured: [[Int]: (Double, ValidationMetrics?)] = [:]
            // Plans measured by earlier runs on the same inputs are not measured again.
            let (storeURL, storeKey) = try measurementStore()
            var store = MeasuredPlanStore.load(from: storeURL, key: storeKey)
            func measureLoss(_ assignment: [Int]) throws -> (Double, ValidationMetrics?) {
                if let m = measured[assignment] { return m }
                if let entry = store[assignment] { return (entry.loss, entry.validation) }
                let result = try measurement.measure(assignment, session: &session, probe: &probe)
                let m = (result.loss, try validate(StepSearch.settings(result.quantizers, biases: biases)))
                measured[assignment] = m
                store[assignment] = .init(loss: m.0, validation: m.1)
                try store.save(to: storeURL)
                return m
            }
            let chosen = try measurement.measure(plan.assignment, session: &session, probe: &probe)
            let chosenValidation = try validate(StepSearch.settings(chosen.quantizers, biases: biases))
            measured[plan.assignment] = (chosen.loss, chosenValidation)
            store[plan.assignment] = .init(loss: chosen.loss, validation: chosenValidation)
            try store.save(to: storeURL)
            measuredQuantizers = chosen.quantizers
            measuredMultipliers = chosen.multipliers
            summary.measuredLoss = chosen.loss
            summary.validation = chosenValidation
            if refine {
                // LAPQ's last step on the chosen plan: bias correction and Powell over all its steps,
                // stopped early on held-out calibration samples; losses reported on all calibration data.
                var refineProgress: Progress? = nil
                let start = Date()
                let outcome = try JointRefinement(optimizer: .powell, maxEvaluations: refineEvaluations, biasCorrection: true,
                                                  lossKind: lossKind)
                    .run(chosen.quantizers, graph: session.graph, calibration: calibration, batchSize: inputs.batchSize) { done, total in
                        if refineProgress == nil { refineProgress = Progress(label: "refining", total: total) }
                        refineProgress?.update(done)
                    }
                let settings = StepSearch.settings(outcome.quantizers, multipliers: outcome.multipliers, biasCorrection: outcome.correction,
                                                   biases: biases)
                let biasOnly = StepSearch.settings(outcome.quantizers, biasCorrection: outcome.correction, biases: biases)
                summary.refinement = .init(lossBefore: chosen.loss,
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
            }
            let kind = inputs.budgets[0].kind
            // Uniform points: one candidate everywhere it is allowed (the nearest allowed one elsewhere).
            for (c, candidate) in problem.candidates.enumerated() {
                let assignment = problem.groups.indices.map { g in Self.nearest(c, in: problem.effectiveAllowed(g), candidates: problem.candidates) }
                guard Self.respectsTies(assignment, problem.tiedGroups) else { continue }
                let (loss, validation) = try measureLoss(assignment)
                summary.uniform.append(.init(label: candidate.name, cost: model.value(kind, assignment: assignment),
                                             predictedLoss: fp32Loss + model.predictedLoss(assignment: assignment),
                                             measuredLoss: loss, exact: assignment.allSatisfy { $0 == c }, validation: validation))
                FileHandle.standardError.write(Data("measured uniform \(candidate.name): loss \(String(format: "%.4f", loss))\n".utf8))
            }
            if paretoPoints > 0 {
                let front = try ParetoSweep(planner: planner, kind: kind, pointCount: paretoPoints,
                                            fixedBudgets: Array(inputs.budgets.dropFirst())).run()
                var progress = Progress(label: "measuring Pareto plans", total: front.points.count)
                for (i, point) in front.points.enumerated() {
                    let (loss, validation) = try measureLoss(point.plan.assignment)
                    summary.pareto.append(.init(label: "plan \(i + 1)", cost: point.cost, predictedLoss: fp32Loss + point.predictedLoss,
                                                measuredLoss: loss, exact: true, candidates: point.plan.candidateNames, validation: validation))
                    progress.update(i + 1)
                }
                // The greedy baseline, measured near each Pareto cost; the ILP is also solved at each greedy
                // point's own cost, so the two are compared at equal budgets.
                let greedy = Self.subsample(front.greedy, near: front.points.map(\.cost))
                var known = Set(front.points.map(\.plan.assignment))
                for g in greedy {
                    let budget = BudgetConstraint(kind: kind, limit: g.cost * (1 + 1e-9))
                    guard let extra = try? planner.plan(budgets: [budget] + inputs.budgets.dropFirst()),
                          known.insert(extra.assignment).inserted else { continue }
                    let (loss, validation) = try measureLoss(extra.assignment)
                    summary.pareto.append(.init(label: "plan \(summary.pareto.count + 1)", cost: model.value(kind, assignment: extra.assignment),
                                                predictedLoss: fp32Loss + extra.predictedLoss, measuredLoss: loss, exact: true,
                                                candidates: extra.candidateNames, validation: validation))
                }
                summary.pareto.sort { $0.cost < $1.cost }
                var greedyProgress = Progress(label: "measuring greedy baseline", total: greedy.count)
                for (i, point) in greedy.enumerated() {
                    let (loss, validation) = try measureLoss(point.plan.assignment)
                    summary.greedy.append(.init(label: "greedy \(i + 1)", cost: point.cost, predictedLoss: fp32Loss + point.predictedLoss,
                                                measuredLoss: loss, exact: true, candidates: point.plan.candidateNames, validation: validation))
                    greedyProgress.update(i + 1)
                }
            }
            summary.costKind = kind.rawValue
            summary.chosenCost = model.value(kind, assignment: plan.assignment)
        }
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
    func measurementStore() throws -> (URL, String) {
        var hash = ContentHash()
        hash.combine(try cacheKey().0)
        if let validation {
            for name in validation.data.inputs.keys.sorted() { hash.combine(validation.data.inputs[name]!.asFloats) }
            if let labels = validation.data.labels { hash.combine(labels) }
        }
        hash.combine("measured-plans;v1")
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

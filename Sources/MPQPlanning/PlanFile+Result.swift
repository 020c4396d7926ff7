import Foundation
import MPQPlanner
import MPQSensitivity

extension PlanFile {
    /// The file of a plan run: names for candidates and cost kinds, absolute data paths, labelled points.
    public init(result r: PlanResult) {
        let request = r.request
        model = request.model
        profile = request.profile.name
        loss = request.loss.name
        budgets = request.budgets.map(\.text)
        pins = request.pins.isEmpty ? nil : request.pins.map(\.description)
        calib = request.calibration.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        labels = request.labels.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        calibSamples = request.calibrationSamples
        batchSize = request.batchSize
        candidates = r.problem.candidates.map(\.name)
        sensitivities = r.sensitivities.increases
        fp32Loss = r.fp32Loss
        bopsReference = r.bopsReference
        floatOnlyGroups = r.prepared.floatOnlyGroups
        floatTensors = r.prepared.floatTensors
        ties = r.prepared.tiedGroupNames
        plan = PlannedGroups(problem: r.problem, plan: r.plan, sensitivities: r.sensitivities)
        costs = Dictionary(r.plan.costs.map { ($0.key.rawValue, $0.value) }, uniquingKeysWith: { a, _ in a })
        predictedLoss = r.fp32Loss + r.plan.predictedLoss
        proposalsPerBudget = request.proposals
        if let m = r.measurement { record(m, chosenLabel: r.chosenLabel) }
    }

    /// The measured part of a result.
    private mutating func record(_ m: PlanResult.Measurement, chosenLabel: String?) {
        measuredLoss = m.loss
        stepSearchLoss = m.stepSearchLoss
        validation = m.validation
        refinement = m.refinement
        costKind = m.costKind.rawValue
        chosenCost = m.cost
        chosenProposals = m.proposalsAtBudget.map { Point($0) }
        self.chosenLabel = chosenLabel
        sweepProposals = m.pareto?.proposalCount
        sweepPlansMeasured = m.pareto?.points.count
        seconds = Dictionary(m.seconds.map { ($0.key.rawValue, $0.value) }, uniquingKeysWith: { a, _ in a })
        uniform = m.uniform.map { p in
            var point = Point(p)
            point.candidates = nil   // a uniform point is named by its candidate
            return point
        }
        pareto = m.pareto?.points.map { Point($0) } ?? []
        greedy = m.greedy.map { Point($0) }
        tensors = m.tensors
        correctedBiases = m.correctedBiases
    }
}

extension PlanFile.PlannedGroups {
    /// Every group of `problem` with its candidate in `plan` and its sensitivity there.
    public init(problem: PlanningProblem, plan: Plan, sensitivities: SensitivityTable) {
        groups = problem.groups.enumerated().map { g, group in
            let c = problem.candidates[plan.assignment[g]]
            return PlanFile.GroupChoice(group: group.name, layers: group.layers.map(\.name), opTypes: group.opTypes,
                                        candidate: c.name, weightBits: c.weightBits, activationBits: c.activationBits,
                                        parameters: group.layers.reduce(0) { $0 + $1.parameters },
                                        macs: group.layers.reduce(0) { $0 + $1.macs },
                                        sensitivity: sensitivities.increases[group.name]?[c.name] ?? nil)
        }
    }
}

extension PlanFile.Point {
    /// A typed point as written.
    public init(_ p: PlanPoint) {
        self.init(label: p.label, cost: p.cost, predictedLoss: p.predictedLoss, measuredLoss: p.measuredLoss, exact: p.exact,
                  candidates: p.candidateNames, validation: p.validation, budgets: p.proposal?.budgetLimits,
                  rank: p.proposal?.rank, tieBroken: p.proposal?.tieBroken, selected: p.proposal?.selected,
                  onFront: p.proposal?.onFront)
    }
}

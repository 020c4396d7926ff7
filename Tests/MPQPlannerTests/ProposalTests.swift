import Testing
@testable import MPQPlanner

/// Every assignment meeting the budgets, sorted by predicted loss.
func feasibleByLoss(_ model: CostModel, limits: [(CostKind, Double)]) -> [(loss: Double, assignment: [Int])] {
    allAssignments(model.problem)
        .filter { a in limits.allSatisfy { model.value($0.0, assignment: a) <= CostKind.withTolerance($0.1) } }
        .map { (model.predictedLoss(assignment: $0), $0) }
        .sorted { $0.loss < $1.loss }
}

/// k-best by no-good cuts against exhaustive enumeration.
@Suite struct KBestTests {
    func limit(_ range: ClosedRange<Double>, _ t: Double) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * t
    }

    /// The k best distinct plans: feasible, distinct, in loss order, and their losses are the k smallest of brute
    /// force (as a sorted list, so equal-loss plans may be any of the tied ones); all of them when fewer exist.
    func check(_ planner: MixedPrecisionPlanner, _ limits: [(CostKind, Double)], k: Int, _ context: String) throws {
        let budgets = limits.map { BudgetConstraint(kind: $0.0, limit: $0.1) }
        let expected = feasibleByLoss(planner.model, limits: limits)
        guard !expected.isEmpty else {
            #expect(throws: PlanningError.self, "\(context)") { try planner.bestPlans(budgets: budgets, count: k) }
            return
        }
        let plans = try planner.bestPlans(budgets: budgets, count: k)
        #expect(plans.count == min(k, expected.count), "\(context): \(plans.count) plans, \(expected.count) feasible")
        #expect(Set(plans.map(\.assignment)).count == plans.count, "\(context): repeated plan")
        let feasible = Set(expected.map(\.assignment))
        for p in plans {
            #expect(feasible.contains(p.assignment), "\(context): infeasible plan \(p.assignment)")
            #expect(p.provenOptimal)
        }
        for (a, b) in zip(plans, plans.dropFirst()) { #expect(a.predictedLoss <= b.predictedLoss + 1e-9, "\(context): out of order") }
        for (i, p) in plans.enumerated() {
            #expect(close(p.predictedLoss, expected[i].loss), "\(context): plan \(i) loss \(p.predictedLoss) vs \(expected[i].loss)")
        }
        // The first is what `plan` returns (the same program, solved the same way).
        #expect(plans[0].assignment == (try planner.plan(budgets: budgets)).assignment, "\(context)")
    }

    @Test(arguments: CostKind.allCases)
    func singleBudgetMatchesEnumeration(kind: CostKind) throws {
        for seed in UInt64(400)...UInt64(407) {
            let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed), profile: testProfile())
            let range = bruteRange(planner.model, kind)
            for t in [0.0, 0.35, 0.8] {
                for k in [1, 2, 5, 12] { try check(planner, [(kind, limit(range, t))], k: k, "seed \(seed) \(kind) t \(t) k \(k)") }
            }
        }
    }

    @Test func severalBudgetsMatchEnumeration() throws {
        var rng = SeededGenerator(seed: 4242)
        for seed in UInt64(410)...UInt64(421) {
            let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed), profile: testProfile())
            let kinds = CostKind.allCases.shuffled(using: &rng)
            for n in [2, 3] {
                let limits = kinds.prefix(n).map { ($0, limit(bruteRange(planner.model, $0), Double.random(in: 0.25...0.9, using: &rng))) }
                try check(planner, limits, k: 6, "seed \(seed) \(n) budgets")
            }
            try check(planner, [], k: 4, "seed \(seed) no budget")
        }
    }

    @Test func tiedGroupsMatchEnumeration() throws {
        for seed in UInt64(430)...UInt64(437) {
            let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed, groups: 6, ties: true), profile: testProfile())
            for kind in [CostKind.averageWeightBits, .bops] {
                try check(planner, [(kind, limit(bruteRange(planner.model, kind), 0.5))], k: 7, "seed \(seed) ties \(kind)")
            }
            for p in try planner.bestPlans(budgets: [], count: 5) {
                #expect(p.assignment[0] == p.assignment[2] && p.assignment[1] == p.assignment[3])
            }
        }
    }

    /// Asking for more plans than exist returns every feasible plan, each once.
    @Test func fewerFeasiblePlansThanAsked() throws {
        for seed in UInt64(440)...UInt64(445) {
            let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed, groups: 3, ties: false), profile: testProfile())
            let total = allAssignments(planner.problem).count
            try check(planner, [], k: total + 5, "seed \(seed) all plans")
            // At the cheapest bits only a few plans fit.
            let cheapest = planner.cheapest(.averageWeightBits).value
            try check(planner, [(.averageWeightBits, cheapest)], k: total, "seed \(seed) cheapest")
        }
    }

    @Test func infeasibleAndInvalidCounts() throws {
        let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: 450), profile: testProfile())
        let below = planner.cheapest(.averageWeightBits).value - 0.5
        #expect(throws: PlanningError.self) { try planner.bestPlans(budgets: [BudgetConstraint(kind: .averageWeightBits, limit: below)], count: 3) }
        #expect(throws: PlanningError.invalidSweep("the number of proposals must be at least 1, got 0")) {
            try planner.bestPlans(budgets: [], count: 0)
        }
        #expect(throws: PlanningError.self) { try planner.proposals(budgets: [], count: -1) }
    }

    /// A single group: the cut Σ x ≤ 0 excludes the chosen candidate; every allowed candidate comes out in loss order.
    @Test func singleGroup() throws {
        let profile = testProfile()
        let layer = LayerCost(name: "l", opType: "Conv", parameters: 100, outputChannels: 4, macs: 1000, inputElements: 10, outputElements: 10)
        let problem = PlanningProblem(candidates: profile.candidates,
                                      groups: [PlanningGroup(name: "g", layers: [layer], allowedCandidates: [0, 1, 2])],
                                      sensitivities: [[3, 1, 2]])
        let planner = try MixedPrecisionPlanner(problem: problem, profile: profile)
        #expect(try planner.bestPlans(budgets: [], count: 5).map(\.candidateNames) == [["W8A8"], ["W8A16"], ["W4A8"]])
    }

    /// Proposals: the k best, plus the tie-broken plan (appended when distinct, else marked).
    @Test func proposalsIncludeTheTieBrokenPlan() throws {
        for seed in UInt64(460)...UInt64(475) {
            let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed), profile: testProfile())
            let model = planner.model
            let range = bruteRange(model, .averageWeightBits)
            let bits = limit(range, 0.5)
            let budgets = [BudgetConstraint(kind: .averageWeightBits, limit: bits)]
            let tie = MixedPrecisionPlanner.TieBreak(cost: .bops, relativeTolerance: 0.05)
            let best = try planner.bestPlans(budgets: budgets, count: 2)
            let proposals = try planner.proposals(budgets: budgets, count: 2, tieBreak: tie)
            #expect(Array(proposals.prefix(best.count).map(\.plan)) == best)
            #expect(proposals.prefix(best.count).map(\.rank) == Array(0..<best.count).map { Optional($0) })
            let broken = proposals.filter(\.tieBroken)
            #expect(broken.count == 1, "seed \(seed)")
            // The tie-broken plan is what plan() returns with the same tie-break.
            var tied = planner
            tied.tieBreak = tie
            #expect(broken.first?.plan.assignment == (try tied.plan(budgets: budgets)).assignment, "seed \(seed)")
            if proposals.count == best.count + 1 {
                #expect(proposals.last!.rank == nil && proposals.last!.tieBroken)
                #expect(!best.contains { $0.assignment == proposals.last!.plan.assignment })
            }
            // One proposal without a tie-break is plan() itself.
            let one = try planner.proposals(budgets: budgets, count: 1)
            #expect(one == [Proposal(plan: try planner.plan(budgets: budgets), rank: 0)])
        }
    }
}

/// Selection and envelope logic of measured sweeps, with fake measurements.
@Suite struct MeasuredFrontTests {
    /// A plan with a given assignment, bits cost and predicted loss (no model needed).
    func plan(_ a: [Int], bits: Double, predicted: Double) -> Plan {
        Plan(assignment: a, candidateNames: a.map { "c\($0)" }, predictedLoss: predicted,
             costs: [.averageWeightBits: bits], relativeBOPs: nil, provenOptimal: true)
    }

    @Test func lowerEnvelope() {
        let pts: [(cost: Double, loss: Double)] = [(4, 5), (1, 9), (2, 9), (4, 5), (5, 1), (2.5, 6), (3, 6), (6, .nan), (6, 1), (5 + 1e-12, 0.5)]
        // (2, 9): same loss as the cheaper (1, 9). The second (4, 5): equal to the first. (3, 6): same loss as (2.5, 6).
        // (5, 1) is beaten by (5 + 1e-12, 0.5) within the cost tolerance; NaN never; (6, 1) by (5, 0.5).
        #expect(MeasuredFront.lowerEnvelope(pts) == [true, true, false, false, false, true, false, false, false, true])
        #expect(MeasuredFront.lowerEnvelope(pts, costTolerance: 0) == [true, true, false, false, true, true, false, false, false, true])
        #expect(MeasuredFront.lowerEnvelope([]) == [])
    }

    @Test func selectsTheBestMeasuredProposalAndMeasuresEachPlanOnce() throws {
        let a = plan([0, 0], bits: 4, predicted: 1.0)
        let b = plan([0, 1], bits: 4, predicted: 1.1)   // same cost as a, measures better
        let c = plan([1, 0], bits: 5, predicted: 0.5)
        let d = plan([1, 1], bits: 6, predicted: 0.2)
        let e = plan([2, 2], bits: 5.5, predicted: 0.6)  // measures worse than the cheaper c: off the front
        let measured: [[Int]: Double] = [[0, 0]: 3.0, [0, 1]: 2.0, [1, 0]: 1.0, [1, 1]: 1.0, [2, 2]: 1.5]
        let budgets = [
            BudgetProposals(limit: 4, proposals: [Proposal(plan: a, rank: 0), Proposal(plan: b, rank: 1, tieBroken: true)]),
            BudgetProposals(limit: 5, proposals: [Proposal(plan: c, rank: 0), Proposal(plan: a, rank: 2)]),
            BudgetProposals(limit: 6, proposals: [Proposal(plan: d, rank: 0), Proposal(plan: e, rank: 1), Proposal(plan: c, rank: 2)]),
        ]
        var calls: [[Int]] = []
        let front = MeasuredFront(kind: .averageWeightBits, budgets: budgets) { assignment in
            calls.append(assignment)
            return measured[assignment]!
        }
        #expect(calls == [[0, 0], [0, 1], [1, 0], [1, 1], [2, 2]])
        #expect(front.proposalCount == 7)
        #expect(front.entries.map(\.plan.assignment) == [[0, 1], [0, 0], [1, 0], [2, 2], [1, 1]])
        #expect(front.entries.map(\.onFront) == [true, false, true, false, false])
        #expect(front.front.map(\.cost) == [4, 5])
        // Budget 4 takes b (measured 2.0 < 3.0); 5 takes c; 6 ties d and c at 1.0 and keeps the earlier proposal, d.
        #expect(front.selections.map { front.entries[$0.entry].plan.assignment } == [[0, 1], [1, 0], [1, 1]])
        #expect(front.selections.map(\.limit) == [4, 5, 6])
        #expect(front.selections[2].proposals.map { front.entries[$0].plan.assignment } == [[1, 1], [2, 2], [1, 0]])
        #expect(front.entries.map(\.selected) == [true, false, true, false, true])
        // Merged provenance: a was proposed at 4 (rank 0) and 5 (rank 2); c at 5 and 6.
        let ea = front.entry(for: [0, 0])!, ec = front.entry(for: [1, 0])!
        #expect(ea.budgetLimits == [4, 5] && ea.bestRank == 0 && !ea.tieBroken)
        #expect(ec.budgetLimits == [5, 6] && ec.bestRank == 0)
        #expect(front.entry(for: [0, 1])!.tieBroken)
        #expect(front.entry(for: [9, 9]) == nil)
    }

    @Test func measurementErrorsPropagate() {
        struct Failure: Error {}
        let budgets = [BudgetProposals(limit: 1, proposals: [Proposal(plan: plan([0], bits: 1, predicted: 0), rank: 0)])]
        #expect(throws: Failure.self) { try MeasuredFront(kind: .averageWeightBits, budgets: budgets) { _ in throw Failure() } }
    }

    /// A real sweep with k proposals and a fake measurement (predicted loss times a deterministic per-plan factor):
    /// the front is a strict lower envelope, every measured plan is on it or dominated by it, each budget keeps its
    /// best measured proposal, and the front is at least as good as the one-proposal sweep's at every one of its plans.
    @Test(arguments: [CostKind.averageWeightBits, .bops, .weightBytes])
    func sweepWithProposals(kind: CostKind) throws {
        func fake(_ a: [Int]) -> Double {
            var h: UInt64 = 1469598103934665603
            for x in a { h = (h ^ UInt64(x + 1)) &* 1099511628211 }
            return Double(h % 1000) / 1000 + 0.5
        }
        for seed in UInt64(480)...UInt64(485) {
            let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed, groups: 6, ties: seed % 2 == 0), profile: testProfile())
            let measure = { (a: [Int]) in planner.model.predictedLoss(assignment: a) * fake(a) + fake(a) }
            let one = try ParetoSweep(planner: planner, kind: kind, pointCount: 10).run()
            let sweep = ParetoSweep(planner: planner, kind: kind, pointCount: 10, proposalCount: 3,
                                    tieBreakProposal: .init(cost: .bops, relativeTolerance: 0.05))
            let three = try sweep.run()
            #expect(three.points == one.points, "seed \(seed): the first proposals are the one-proposal sweep's plans")
            #expect(three.proposals.count == one.proposals.count)
            for (p3, p1) in zip(three.proposals, one.proposals) {
                #expect(p3.proposals[0].plan == p1.proposals[0].plan)
                #expect(p3.proposals.filter { $0.rank != nil }.count <= 3)
                let limits = [(kind, p3.limit)]
                let expected = feasibleByLoss(planner.model, limits: limits)
                for (i, p) in p3.proposals.filter({ $0.rank != nil }).enumerated() {
                    #expect(close(p.plan.predictedLoss, expected[i].loss), "seed \(seed) limit \(p3.limit) rank \(i)")
                }
            }
            let measured = MeasuredFront(kind: kind, budgets: three.proposals, measure: measure)
            let baseline = MeasuredFront(kind: kind, budgets: one.proposals, measure: measure)
            let distinct = Set(three.proposals.flatMap { $0.proposals.map(\.plan.assignment) })
            #expect(measured.entries.count == distinct.count)
            let front = measured.front
            for (a, b) in zip(front, front.dropFirst()) {
                #expect(b.cost > a.cost && b.measuredLoss < a.measuredLoss, "seed \(seed)")
            }
            for e in measured.entries where !e.onFront {
                #expect(front.contains { $0.cost <= e.cost * (1 + 1e-9) && $0.measuredLoss <= e.measuredLoss }, "seed \(seed)")
            }
            for s in measured.selections {
                for i in s.proposals { #expect(measured.entries[s.entry].measuredLoss <= measured.entries[i].measuredLoss) }
            }
            for e in baseline.entries {
                #expect(front.contains { $0.cost <= e.cost * (1 + 1e-9) && $0.measuredLoss <= e.measuredLoss },
                        "seed \(seed): one-proposal plan at \(e.cost) is not matched")
            }
        }
    }

    @Test func invalidProposalCount() throws {
        let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: 1), profile: testProfile())
        #expect(throws: PlanningError.invalidSweep("the number of proposals must be at least 1, got 0")) {
            try ParetoSweep(planner: planner, kind: .bops, pointCount: 3, proposalCount: 0).run()
        }
    }
}

/// Sensitivities of a few 1e-8 (a nearly lossless model's, in nats) are far below GLPK's absolute tolerances
/// (1e-7 on reduced costs); the planner must still rank plans exactly.
@Suite struct TinySensitivityTests {
    func scaled(_ problem: PlanningProblem, _ factor: Double) -> PlanningProblem {
        var p = problem
        p.sensitivities = p.sensitivities.map { $0.map { $0.map { $0 * factor } } }
        return p
    }

    @Test(arguments: [1e-9, 1e-6, 1e3])
    func optimumAndKBestMatchEnumeration(factor: Double) throws {
        for seed in UInt64(500)...UInt64(507) {
            let planner = try MixedPrecisionPlanner(problem: scaled(randomProblem(seed: seed, groups: 6, ties: seed % 2 == 0), factor),
                                                    profile: testProfile())
            for t in [0.3, 0.6] {
                let range = bruteRange(planner.model, .averageWeightBits)
                let limit = range.lowerBound + (range.upperBound - range.lowerBound) * t
                let expected = feasibleByLoss(planner.model, limits: [(.averageWeightBits, limit)])
                let plans = try planner.bestPlans(budgets: [BudgetConstraint(kind: .averageWeightBits, limit: limit)], count: 4)
                for (i, p) in plans.enumerated() {
                    #expect(abs(p.predictedLoss - expected[i].loss) <= 1e-9 * max(abs(expected[i].loss), 1e-300),
                            "seed \(seed) factor \(factor) t \(t) plan \(i): \(p.predictedLoss) vs \(expected[i].loss)")
                }
            }
        }
    }

    /// The sweep's ILP point at a greedy point's cost is never predicted worse than the greedy plan, at any scale.
    @Test func greedyNeverBeatsTheILPAtTinyScale() throws {
        for seed in UInt64(510)...UInt64(515) {
            let planner = try MixedPrecisionPlanner(problem: scaled(randomProblem(seed: seed, groups: 6), 1e-8), profile: testProfile())
            let sweep = ParetoSweep(planner: planner, kind: .averageWeightBits, pointCount: 6)
            for g in sweep.greedyBaseline() {
                let ilp = try planner.plan(budgets: [BudgetConstraint(kind: .averageWeightBits, limit: g.cost)])
                #expect(ilp.predictedLoss <= g.predictedLoss * (1 + 1e-9), "seed \(seed): \(ilp.predictedLoss) > \(g.predictedLoss)")
            }
        }
    }
}

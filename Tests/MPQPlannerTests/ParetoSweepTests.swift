import Testing
@testable import MPQPlanner

@Suite struct ParetoSweepTests {
    @Test(arguments: CostKind.allCases)
    func frontIsMonotoneAndGreedyNeverBeatsILP(kind: CostKind) throws {
        for seed in UInt64(200)...UInt64(205) {
            let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed, groups: 6, ties: seed % 2 == 1), profile: testProfile())
            let front = try ParetoSweep(planner: planner, kind: kind, pointCount: 12).run()
            #expect(front.targets.count == 12)
            #expect(!front.points.isEmpty)
            for (a, b) in zip(front.points, front.points.dropFirst()) {
                #expect(b.cost > a.cost)
                #expect(b.predictedLoss < a.predictedLoss)
            }
            // Each ILP point is optimal for its own budget (brute force).
            for p in front.points {
                #expect(close(p.predictedLoss, bruteForce(planner.model, limits: [(kind, p.budgetLimit!)])!.loss))
                #expect(p.measuredLoss == nil)
            }
            // The ends: cheapest and least sensitive plans.
            #expect(close(front.points.first!.cost, planner.cheapest(kind).value) || front.points.first!.cost >= planner.cheapest(kind).value)
            #expect(close(front.points.last!.predictedLoss, bruteForce(planner.model, limits: [])!.loss))
            // Greedy: starts at the most expensive plan, costs fall, and the ILP at the same cost is never worse.
            #expect(close(front.greedy.first!.cost, planner.mostExpensive(kind).value))
            for (a, b) in zip(front.greedy, front.greedy.dropFirst()) { #expect(b.cost <= a.cost + 1e-9 * max(1, a.cost)) }
            for g in front.greedy {
                let ilp = try planner.plan(budgets: [BudgetConstraint(kind: kind, limit: g.cost)])
                #expect(ilp.predictedLoss <= g.predictedLoss + 1e-9 * max(1, abs(g.predictedLoss)), "seed \(seed)")
            }
        }
    }

    @Test func fixedBudgetsApplyAtEveryPoint() throws {
        let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: 300, groups: 6), profile: testProfile())
        let cap = (planner.cheapest(.latency).value + planner.mostExpensive(.latency).value) / 2
        let front = try ParetoSweep(planner: planner, kind: .averageWeightBits, pointCount: 8,
                                    fixedBudgets: [BudgetConstraint(kind: .latency, limit: cap)]).run()
        for p in front.points { #expect(p.plan.costs[.latency]! <= CostKind.withTolerance(cap)) }
    }

    @Test func nonDominatedFilter() throws {
        let m = try CostModel(problem: randomProblem(seed: 1), profile: testProfile())
        let plan = Plan(assignment: m.problem.groups.indices.map { m.problem.effectiveAllowed($0)[0] }, model: m)
        let pts = [(3.0, 5.0), (1.0, 9.0), (2.0, 9.0), (4.0, 5.0), (5.0, 1.0), (2.5, 6.0)].map {
            ParetoPoint(plan: plan, cost: $0.0, predictedLoss: $0.1)
        }
        #expect(ParetoSweep.nonDominated(pts).map(\.cost) == [1, 2.5, 3, 5])
    }

    @Test func invalidPointCount() throws {
        let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: 1), profile: testProfile())
        #expect(throws: PlanningError.invalidSweep("the number of points must be at least 1, got 0")) {
            try ParetoSweep(planner: planner, kind: .bops, pointCount: 0).run()
        }
        #expect(try ParetoSweep(planner: planner, kind: .bops, pointCount: 1).run().points.count == 1)
    }
}

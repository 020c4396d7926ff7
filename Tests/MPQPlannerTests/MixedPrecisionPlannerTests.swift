import Testing
@testable import MPQPlanner

@Suite struct MixedPrecisionPlannerTests {
    /// Picks a limit a fraction `t` of the way through the achievable range.
    func limit(_ range: ClosedRange<Double>, _ t: Double) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * t
    }

    func check(_ planner: MixedPrecisionPlanner, _ limits: [(CostKind, Double)], seed: UInt64) throws {
        let budgets = limits.map { BudgetConstraint(kind: $0.0, limit: $0.1) }
        let expected = bruteForce(planner.model, limits: limits)
        guard let expected else {
            #expect(throws: PlanningError.self) { try planner.plan(budgets: budgets) }
            return
        }
        let plan = try planner.plan(budgets: budgets)
        #expect(close(plan.predictedLoss, expected.loss), "seed \(seed): ILP \(plan.predictedLoss) vs brute force \(expected.loss)")
        for (kind, l) in limits { #expect(plan.costs[kind]! <= CostKind.withTolerance(l), "seed \(seed) \(kind)") }
        for g in plan.assignment.indices { #expect(planner.problem.effectiveAllowed(g).contains(plan.assignment[g])) }
        #expect(plan.provenOptimal)
    }

    @Test(arguments: CostKind.allCases)
    func singleBudgetMatchesBruteForce(kind: CostKind) throws {
        for seed in UInt64(1)...UInt64(12) {
            let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed), profile: testProfile())
            let range = bruteRange(planner.model, kind)
            for t in [0.0, 0.3, 0.7, 1.0] { try check(planner, [(kind, limit(range, t))], seed: seed) }
        }
    }

    /// Profile numbers at the edges of what validation admits (rates 1e-9 and 1e12, a 1e-9 MHz clock) still give
    /// the brute-force optimum, or a planning error in the user's terms: never a solver failure.
    @Test(arguments: CostKind.allCases)
    func extremeProfileNumbersPlanExactly(kind: CostKind) throws {
        var profile = testProfile(sizeScaleBits: 64, zeroPointBits: 0)
        profile.latency = .roofline(clockMHz: 1e-9, perCandidate: [
            .init(macsPerCycle: 1e-9, bytesPerCycle: 1e12), .init(macsPerCycle: 1e12, bytesPerCycle: 1e-9), .init(macsPerCycle: 1e12, bytesPerCycle: 1e12),
        ])
        for seed in UInt64(50)...UInt64(57) {
            let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed, profile: profile), profile: profile)
            let range = bruteRange(planner.model, kind)
            for t in [0.0, 0.3, 0.7, 1.0] {
                let limit = limit(range, t)
                do {
                    try check(planner, [(kind, limit)], seed: seed)
                } catch {
                    Issue.record("seed \(seed), \(kind) ≤ \(limit): \(error)")
                }
                do { _ = try planner.plan(budgets: [BudgetConstraint(kind: kind, limit: limit * 0.5 - 1)]) } catch {
                    #expect(error is PlanningError, "seed \(seed): \(error)")
                    #expect(!"\(error)".contains("GLPK"), "seed \(seed): \(error)")
                }
            }
        }
    }

    @Test func twoAndThreeBudgetsMatchBruteForce() throws {
        var rng = SeededGenerator(seed: 99)
        for seed in UInt64(20)...UInt64(40) {
            let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed), profile: testProfile())
            let kinds = CostKind.allCases.shuffled(using: &rng)
            let two = kinds.prefix(2).map { ($0, limit(bruteRange(planner.model, $0), Double.random(in: 0.2...0.9, using: &rng))) }
            try check(planner, two, seed: seed)
            let three = kinds.prefix(3).map { ($0, limit(bruteRange(planner.model, $0), Double.random(in: 0.3...0.9, using: &rng))) }
            try check(planner, three, seed: seed)
        }
    }

    @Test func tiedGroupsMatchBruteForce() throws {
        for seed in UInt64(50)...UInt64(60) {
            let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed, groups: 6, ties: true), profile: testProfile())
            for kind in CostKind.allCases {
                let range = bruteRange(planner.model, kind)
                try check(planner, [(kind, limit(range, 0.4))], seed: seed)
            }
            let plan = try planner.plan(budgets: [])
            #expect(plan.assignment[0] == plan.assignment[2] && plan.assignment[1] == plan.assignment[3])
        }
    }

    @Test func noBudgetPicksLeastSensitive() throws {
        let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: 3), profile: testProfile())
        let plan = try planner.plan(budgets: [])
        #expect(close(plan.predictedLoss, bruteForce(planner.model, limits: [])!.loss))
    }

    @Test(arguments: CostKind.allCases)
    func infeasibleBudgetReportsCheapestAchievable(kind: CostKind) throws {
        for seed in UInt64(70)...UInt64(76) {
            let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed, ties: seed % 2 == 0), profile: testProfile())
            let cheapest = bruteRange(planner.model, kind).lowerBound
            #expect(close(planner.cheapest(kind).value, cheapest))
            let budget = BudgetConstraint(kind: kind, limit: cheapest * 0.9)
            do {
                _ = try planner.plan(budgets: [budget])
                Issue.record("seed \(seed): \(kind) budget below the cheapest plan was accepted")
            } catch let PlanningError.infeasible(shortfalls, jointly) {
                #expect(!jointly)
                #expect(shortfalls.count == 1)
                #expect(close(shortfalls[0].cheapestAchievable, cheapest))
                #expect(shortfalls[0].limit == cheapest * 0.9)
            }
        }
    }

    @Test func infeasibleMessageNamesBudgetAndCheapestBits() throws {
        // Two groups, W4A8 and W8A8 allowed, but one group only W8A8: the cheapest plan averages above 4 bits.
        let profile = testProfile()
        let problem = PlanningProblem(
            candidates: profile.candidates,
            groups: [PlanningGroup(name: "a", layers: [LayerCost(name: "a", opType: "Conv", parameters: 100)], allowedCandidates: [0, 1]),
                     PlanningGroup(name: "b", layers: [LayerCost(name: "b", opType: "DepthwiseConv", parameters: 100)], allowedCandidates: [1])],
            sensitivities: [[1, 0, nil], [nil, 0, nil]])
        let planner = try MixedPrecisionPlanner(problem: problem, profile: profile)
        let error = #expect(throws: PlanningError.self) { try planner.plan(budgets: [BudgetConstraint.parse("3.0bits"), BudgetConstraint.parse("1MB")]) }
        #expect(error?.description == "budget 3.0bits cannot be met: the cheapest plan averages 6.00 bits. Relax the budget, or add cheaper candidates to the hardware profile.")
        #expect(try planner.plan(budgets: [BudgetConstraint.parse("6bits")]).candidateNames == ["W4A8", "W8A8"])
    }

    @Test func jointInfeasibilityIsReportedWithEveryBudget() throws {
        // A target where 4-bit weights are emulated slowly: fewest bits and lowest latency pull apart.
        var profile = testProfile()
        profile.latency = .roofline(clockMHz: 100, perCandidate: [.init(macsPerCycle: 4, bytesPerCycle: 8), .init(macsPerCycle: 64, bytesPerCycle: 8), .init(macsPerCycle: 32, bytesPerCycle: 8)])
        var found = 0
        for seed in UInt64(100)...UInt64(160) {
            let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed, profile: profile), profile: profile)
            let bits = bruteRange(planner.model, .averageWeightBits), latency = bruteRange(planner.model, .latency)
            let limits = [(CostKind.averageWeightBits, limit(bits, 0.2)), (CostKind.latency, limit(latency, 0.2))]
            guard bruteForce(planner.model, limits: limits) == nil else { continue }
            found += 1
            do {
                _ = try planner.plan(budgets: limits.map { BudgetConstraint(kind: $0.0, limit: $0.1) })
                Issue.record("seed \(seed): jointly infeasible budgets accepted")
            } catch let PlanningError.infeasible(shortfalls, jointly) {
                #expect(jointly)
                #expect(shortfalls.count == 2)
                #expect(close(shortfalls[0].cheapestAchievable, bits.lowerBound))
                #expect(close(shortfalls[1].cheapestAchievable, latency.lowerBound))
            }
        }
        #expect(found > 0, "no jointly infeasible instance among the seeds")
    }

    @Test func problemValidationNamesGroupAndOps() throws {
        let profile = testProfile()
        let layer = LayerCost(name: "dw", opType: "DepthwiseConv", parameters: 9)
        func problem(allowed: [Int], sens: [Double?], ties: [[Int]] = []) -> PlanningProblem {
            PlanningProblem(candidates: profile.candidates,
                            groups: [PlanningGroup(name: "block1", layers: [layer], allowedCandidates: allowed),
                                     PlanningGroup(name: "block2", layers: [LayerCost(name: "fc", opType: "Gemm", parameters: 4)], allowedCandidates: [0])],
                            sensitivities: [sens, [0, nil, nil]], tiedGroups: ties)
        }
        #expect(throws: PlanningError.noAllowedCandidate(group: "block1", opTypes: ["DepthwiseConv"], allowed: ["W8A16"], measured: ["W4A8"])) {
            try problem(allowed: [2], sens: [1, nil, nil]).validate()
        }
        #expect(throws: PlanningError.candidateIndexOutOfRange(group: "block1", index: 5, candidateCount: 3)) {
            try problem(allowed: [5], sens: [1, nil, nil]).validate()
        }
        #expect(throws: PlanningError.nonFiniteSensitivity(group: "block1", candidate: "W8A8", value: .infinity)) {
            try problem(allowed: [1], sens: [nil, .infinity, nil]).validate()
        }
        #expect(throws: PlanningError.tiedGroupOutOfRange(tie: 0, index: 2, groupCount: 2)) {
            try problem(allowed: [1], sens: [nil, 1, nil], ties: [[0, 2]]).validate()
        }
        #expect(throws: PlanningError.tiedGroupsHaveNoCommonCandidate(groups: ["block1", "block2"], allowed: ["block1": ["W8A8"], "block2": ["W4A8"]])) {
            try problem(allowed: [1], sens: [nil, 1, nil], ties: [[0, 1]]).validate()
        }
        #expect(throws: PlanningError.self) { try problem(allowed: [1], sens: [nil, 1]).validate() }
        let message = PlanningError.noAllowedCandidate(group: "block1", opTypes: ["DepthwiseConv"], allowed: [], measured: ["W4A8"]).description
        #expect(message.contains("group 'block1' (ops: DepthwiseConv)"))
    }

    @Test func latencyBudgetNeedsALatencyModel() throws {
        var profile = testProfile()
        profile.latency = nil
        let planner = try MixedPrecisionPlanner(problem: randomProblem(seed: 4), profile: profile)
        #expect(throws: PlanningError.self) { try planner.plan(budgets: [BudgetConstraint.parse("3ms")]) }
        #expect(planner.model.supports(.latency) == false)
    }

    @Test func latencyTableIsCheckedAgainstLayers() throws {
        var profile = testProfile()
        profile.latency = .table(["a": [0: 1.5, 1: 2.0]])
        let problem = PlanningProblem(
            candidates: profile.candidates,
            groups: [PlanningGroup(name: "a", layers: [LayerCost(name: "a", opType: "Conv", parameters: 10)], allowedCandidates: [0, 1, 2])],
            sensitivities: [[3, 1, 0]])
        #expect(throws: HardwareProfileError.latencyTableMissing(profile: "test", layer: "a", candidates: ["W8A16"])) {
            try MixedPrecisionPlanner(problem: problem, profile: profile)
        }
        var restricted = problem
        restricted.groups[0].allowedCandidates = [0, 1]
        let planner = try MixedPrecisionPlanner(problem: restricted, profile: profile)
        #expect(try planner.plan(budgets: [BudgetConstraint.parse("1.8ms")]).candidateNames == ["W4A8"])
        #expect(try planner.plan(budgets: [BudgetConstraint.parse("2ms")]).candidateNames == ["W8A8"])
    }

    @Test func candidatesMustExistInProfile() throws {
        var problem = randomProblem(seed: 1)
        problem.candidates[2].name = "W2A2"
        #expect(throws: PlanningError.candidateNotInProfile(candidate: "W2A2", profile: "test", available: ["W4A8", "W8A8", "W8A16"])) {
            try CostModel(problem: problem, profile: testProfile())
        }
    }
}

/// The lexicographic tie-break: minimum BOPs among plans within the loss tolerance, checked by brute force.
@Suite struct TieBreakTests {
    @Test func tieBreakMatchesBruteForce() throws {
        for seed in UInt64(70)...UInt64(85) {
            var planner = try MixedPrecisionPlanner(problem: randomProblem(seed: seed), profile: testProfile())
            let model = planner.model
            let limit = bruteRange(model, .averageWeightBits)
            let bitsLimit = limit.lowerBound + 0.5 * (limit.upperBound - limit.lowerBound)
            let budget = BudgetConstraint(kind: .averageWeightBits, limit: bitsLimit)
            let plain = try planner.plan(budgets: [budget])
            // Exact (no gap, no time limit), then with the default 0.1% gap on the tie-break cost.
            planner.tieBreak = .init(cost: .bops, relativeTolerance: 0.05, relativeGap: nil, timeLimit: nil)
            let tied = try planner.plan(budgets: [budget])
            planner.tieBreak = .init(cost: .bops, relativeTolerance: 0.05)
            let quick = try planner.plan(budgets: [budget])
            let feasible = allAssignments(model.problem).filter {
                model.value(.averageWeightBits, assignment: $0) <= CostKind.withTolerance(bitsLimit)
            }
            let best = feasible.map { model.predictedLoss(assignment: $0) }.min()!
            #expect(close(plain.predictedLoss, best))
            let withinTolerance = feasible.filter { model.predictedLoss(assignment: $0) <= best * 1.05 + 1e-12 }
            let cheapestBOPs = withinTolerance.map { model.value(.bops, assignment: $0) }.min()!
            #expect(tied.predictedLoss <= best * 1.05 + 1e-9, "seed \(seed)")
            #expect(close(tied.costs[.bops]!, min(cheapestBOPs, plain.costs[.bops]!)), "seed \(seed): \(tied.costs[.bops]!) vs \(cheapestBOPs)")
            #expect(tied.costs[.bops]! <= plain.costs[.bops]! * (1 + 1e-12))
            #expect(quick.predictedLoss <= best * 1.05 + 1e-9)
            #expect(quick.costs[.bops]! <= min(cheapestBOPs, plain.costs[.bops]!) * 1.001 + 1e-9, "seed \(seed)")
        }
    }

    /// Two candidates at equal weight bits, the wider-activation one better by less than the tolerance:
    /// the tie-break takes the cheaper one; a larger difference keeps the loss optimum.
    @Test func unpricedActivationBitsGoToTheCheaperCandidate() throws {
        let profile = testProfile()
        let layer = LayerCost(name: "l", opType: "Conv", parameters: 100, outputChannels: 4, macs: 1000, inputElements: 10, outputElements: 10)
        for (w8a8, expected) in [(1.004, "W8A8"), (2.0, "W8A16")] {
            let problem = PlanningProblem(candidates: profile.candidates,
                                          groups: [PlanningGroup(name: "g", layers: [layer], allowedCandidates: [1, 2]),
                                                   PlanningGroup(name: "h", layers: [layer], allowedCandidates: [0, 1])],
                                          sensitivities: [[nil, w8a8, 1.0], [5, 4, nil]], tiedGroups: [])
            var planner = try MixedPrecisionPlanner(problem: problem, profile: profile)
            planner.tieBreak = .init()
            let plan = try planner.plan(budgets: [BudgetConstraint(kind: .averageWeightBits, limit: 6)])
            #expect(plan.candidateNames == [expected, "W4A8"])
        }
    }
}

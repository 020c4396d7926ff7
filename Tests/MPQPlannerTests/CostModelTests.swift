import Testing
@testable import MPQPlanner

@Suite struct CostModelTests {
    let computeBound = LayerCost(name: "conv", opType: "Conv", parameters: 1000, outputChannels: 16, macs: 64000,
                                 inputElements: 500, outputElements: 300)
    let memoryBound = LayerCost(name: "fc", opType: "Gemm", parameters: 100_000, outputChannels: 10, macs: 1000)

    func model() throws -> CostModel {
        let profile = testProfile()
        let problem = PlanningProblem(
            candidates: profile.candidates,
            groups: [PlanningGroup(name: "conv", layers: [computeBound], allowedCandidates: [0, 1, 2]),
                     PlanningGroup(name: "fc", layers: [memoryBound], allowedCandidates: [0, 1, 2])],
            sensitivities: [[2, 1, 0], [2, 1, 0]])
        return try CostModel(problem: problem, profile: profile)
    }

    @Test func rooflineLatencyByHand() throws {
        let m = try model()
        // W8A8 (32 MACs, 8 bytes per cycle, 100 MHz): 64000/32 = 2000 cycles vs (1000 + 800·1) / 8 = 225 -> 0.02 ms.
        #expect(close(m.cost(.latency, group: 0, candidate: 1), 0.02))
        // W8A16 (16 MACs per cycle): 4000 cycles vs (1000 + 800·2) / 8 = 325 -> 0.04 ms.
        #expect(close(m.cost(.latency, group: 0, candidate: 2), 0.04))
        // Memory-bound W4A8: 1000/64 = 15.6 cycles vs 100000·4/8 / 8 = 6250 cycles -> 0.0625 ms.
        #expect(close(m.cost(.latency, group: 1, candidate: 0), 0.0625))
        #expect(close(m.value(.latency, assignment: [1, 0]), 0.0825))
    }

    @Test func sizeIncludesScalesAndZeroPoints() throws {
        let m = try model()
        // W4A8: symmetric per-channel: 1000·4/8 + 16 channels · 32/8 = 500 + 64.
        #expect(m.cost(.weightBytes, group: 0, candidate: 0) == 564)
        // W8A8: asymmetric per-channel: 1000 + 16 · (32 + 8)/8 = 1080.
        #expect(m.cost(.weightBytes, group: 0, candidate: 1) == 1080)
        // W8A16: symmetric per-tensor: 1000 + 32/8 = 1004.
        #expect(m.cost(.weightBytes, group: 0, candidate: 2) == 1004)
        // A weight-free layer has no overhead.
        let none = CostModel.layerCost(.weightBytes, layer: LayerCost(name: "add", opType: "Add", outputChannels: 8),
                                       candidate: testProfile().candidates[1], size: .init(scaleBits: 32, zeroPointBits: 8),
                                       latency: nil, profileCandidate: 1)
        #expect(none == 0)
    }

    @Test func bitsAndBOPs() throws {
        let m = try model()
        #expect(m.totalParameters == 101_000)
        #expect(close(m.value(.averageWeightBits, assignment: [1, 0]), (1000.0 * 8 + 100_000 * 4) / 101_000))
        #expect(m.cost(.bops, group: 0, candidate: 2) == 64000 * 8 * 16)
        #expect(m.referenceBOPs == 65000 * 64)
        #expect(m.referenceDescription == "uniform W8A8")
        let plan = Plan(assignment: [1, 1], model: m)
        #expect(close(plan.relativeBOPs!, 100))
        #expect(plan.candidateNames == ["W8A8", "W8A8"])
        #expect(plan.predictedLoss == 2)
    }

    @Test func referenceWithoutW8A8IsMostExpensiveUniform() throws {
        let candidates = [Candidate(name: "W4A4", weightBits: 4, activationBits: 4), Candidate(name: "W16A16", weightBits: 16, activationBits: 16)]
        let profile = HardwareProfile(name: "p", source: "s", candidates: candidates)
        let problem = PlanningProblem(candidates: candidates,
                                      groups: [PlanningGroup(name: "g", layers: [LayerCost(name: "l", opType: "Conv", parameters: 1, macs: 10)], allowedCandidates: [0, 1])],
                                      sensitivities: [[1, 0]])
        let m = try CostModel(problem: problem, profile: profile)
        #expect(m.referenceBOPs == 10 * 256)
        #expect(m.referenceDescription.hasPrefix("uniform W16A16"))
        let planner = MixedPrecisionPlanner(model: m)
        // 50% of uniform W16A16 rules W16A16 out.
        #expect(try planner.plan(budgets: [BudgetConstraint.parse("50%bops")]).candidateNames == ["W4A4"])
        #expect(try planner.plan(budgets: [BudgetConstraint.parse("100%bops")]).candidateNames == ["W16A16"])
    }
}

import Testing
@testable import MPQPlanner

/// Pins fix groups in the integer program: the pinned ILP optimum equals brute force over the assignments that
/// respect the pins, and every pin mistake is a clear error naming the pin.
@Suite struct PinTests {
    /// Brute force over the unpinned problem, keeping only assignments with the pinned candidates.
    func pinnedBruteForce(_ problem: PlanningProblem, _ pinned: [Int: Int], model: CostModel,
                          limits: [(CostKind, Double)]) -> Double? {
        var best: Double?
        for a in allAssignments(problem) where pinned.allSatisfy({ a[$0.key] == $0.value }) {
            guard limits.allSatisfy({ model.value($0.0, assignment: a) <= CostKind.withTolerance($0.1) }) else { continue }
            let loss = model.predictedLoss(assignment: a)
            if best == nil || loss < best! { best = loss }
        }
        return best
    }

    @Test func pinnedPlansMatchBruteForce() throws {
        var checked = 0
        for seed in UInt64(1)...UInt64(16) {
            let problem = randomProblem(seed: seed, groups: 6, ties: seed % 2 == 0)
            let full = try MixedPrecisionPlanner(problem: problem, profile: testProfile())
            // Pin group 1 (and, on odd seeds, group 4) to an allowed candidate.
            var pins = [Pin(pattern: "group1", candidate: problem.candidates[problem.effectiveAllowed(1).last!].name)]
            if seed % 2 == 1 { pins.append(Pin(pattern: "g4l*", candidate: problem.candidates[problem.effectiveAllowed(4).first!].name)) }
            guard let pinned = try? problem.resolve(pins), let pinnedProblem = try? problem.pinning(pins),
                  let planner = try? MixedPrecisionPlanner(problem: pinnedProblem, profile: testProfile()) else { continue }
            for kind in CostKind.allCases {
                let range = bruteRange(full.model, kind)
                for t in [0.3, 0.8, 1.0] {
                    let limit = range.lowerBound + (range.upperBound - range.lowerBound) * t
                    let expected = pinnedBruteForce(problem, pinned, model: full.model, limits: [(kind, limit)])
                    guard let expected else {
                        #expect(throws: PlanningError.self) { try planner.plan(budgets: [BudgetConstraint(kind: kind, limit: limit)]) }
                        continue
                    }
                    let plan = try planner.plan(budgets: [BudgetConstraint(kind: kind, limit: limit)])
                    #expect(close(plan.predictedLoss, expected), "seed \(seed) \(kind): ILP \(plan.predictedLoss) vs \(expected)")
                    for (g, c) in pinned { #expect(plan.assignment[g] == c, "seed \(seed): group \(g)") }
                    checked += 1
                }
            }
        }
        #expect(checked > 60)
    }

    /// A pin on one group of a tie fixes the whole tie.
    @Test func pinFollowsTies() throws {
        let problem = randomProblem(seed: 52, groups: 6, ties: true)   // ties [0, 2] and [1, 3]
        let resolved = try problem.resolve([Pin(pattern: "group2", candidate: "W8A16")])
        #expect(resolved == [0: 2, 2: 2])
    }

    @Test func patternsMatchGlobsRegexesAndOpTypes() throws {
        let group = PlanningGroup(name: "/encoder/layer.0/attention/q_proj/MatMul",
                                  layers: [LayerCost(name: "/encoder/layer.0/attention/q_proj/MatMul", opType: "MatMul")],
                                  allowedCandidates: [0])
        #expect(try Pin(parsing: "*q_proj*=W8A8").matches(group))
        #expect(try !Pin(parsing: "q_proj*=W8A8").matches(group))          // a glob covers the whole name
        #expect(try Pin(parsing: "re:attention/(q|k|v)_proj=W8A8").matches(group))
        #expect(try Pin(parsing: "op:MatMul=W8A8").matches(group))
        #expect(try !Pin(parsing: "op:Gemm=W8A8").matches(group))
        #expect(try Pin(parsing: "re:a=b=W8A8") == Pin(pattern: "re:a=b", candidate: "W8A8"))
    }

    @Test func everyPinMistakeNamesThePin() throws {
        let problem = randomProblem(seed: 52, groups: 6, ties: true)
        for (text, fragment) in [("foo", "PATTERN=CANDIDATE"), ("=W8A8", "pattern"), ("group1=", "candidate"), ("re:([=W8A8", "regular expression")] {
            #expect { try Pin(parsing: text) } throws: { error in
                "\(error)".contains("pin '\(text)'") && "\(error)".contains(fragment)
            }
        }
        func message(_ pins: [Pin]) -> String {
            do { _ = try problem.resolve(pins); return "" } catch { return "\(error)" }
        }
        let none = message([Pin(pattern: "layer9", candidate: "W8A8")])
        #expect(none.contains("'layer9=W8A8' matches no group") && none.contains("group0"))
        let unknown = message([Pin(pattern: "group1", candidate: "W2A2")])
        #expect(unknown.contains("'group1=W2A2'") && unknown.contains("W4A8, W8A8, W8A16"))
        let conflict = message([Pin(pattern: "group0", candidate: "W8A8"), Pin(pattern: "group2", candidate: "W8A16")])
        #expect(conflict.contains("'group0=W8A8'") && conflict.contains("'group2=W8A16'"))
        // A candidate a group cannot take.
        var restricted = problem
        restricted.groups[5].allowedCandidates = [0]
        do {
            _ = try restricted.resolve([Pin(pattern: "group5", candidate: "W8A16")])
            Issue.record("a disallowed pin was accepted")
        } catch let PinError.notAllowed(pin, group, allowed) {
            #expect(pin.description == "group5=W8A16" && group == "group5" && allowed == ["W4A8"])
        }
    }
}

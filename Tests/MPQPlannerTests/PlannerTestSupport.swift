import Foundation
@testable import MPQPlanner

/// A small profile for planner tests: three candidates, roofline latency.
func testProfile(sizeScaleBits: Int = 32, zeroPointBits: Int = 8) -> HardwareProfile {
    let candidates = [
        Candidate(name: "W4A8", weightBits: 4, activationBits: 8),
        Candidate(name: "W8A8", weightBits: 8, activationBits: 8, symmetric: false),
        Candidate(name: "W8A16", weightBits: 8, activationBits: 16, perChannel: false),
    ]
    return HardwareProfile(
        name: "test", source: "unit tests", candidates: candidates,
        size: .init(scaleBits: sizeScaleBits, zeroPointBits: zeroPointBits),
        latency: .roofline(clockMHz: 100, perCandidate: [
            .init(macsPerCycle: 64, bytesPerCycle: 8), .init(macsPerCycle: 32, bytesPerCycle: 8), .init(macsPerCycle: 16, bytesPerCycle: 8),
        ]))
}

/// A random planning problem: `groups` groups of 1-2 layers, random allowed subsets and sensitivities that
/// mostly fall with precision, optional random ties.
func randomProblem(seed: UInt64, groups: Int = 5, ties: Bool = false, profile: HardwareProfile = testProfile()) -> PlanningProblem {
    var rng = SeededGenerator(seed: seed)
    let n = profile.candidates.count
    var list: [PlanningGroup] = []
    var sens: [[Double?]] = []
    for g in 0..<groups {
        let layers = (0..<Int.random(in: 1...2, using: &rng)).map { l in
            LayerCost(name: "g\(g)l\(l)", opType: "Conv", parameters: Int.random(in: 0...5000, using: &rng),
                      outputChannels: Int.random(in: 1...64, using: &rng), macs: Int.random(in: 0...200_000, using: &rng),
                      inputElements: Int.random(in: 0...4000, using: &rng), outputElements: Int.random(in: 0...4000, using: &rng))
        }
        var allowed = (0..<n).filter { _ in Double.random(in: 0...1, using: &rng) < 0.8 }
        if allowed.isEmpty { allowed = [Int.random(in: 0..<n, using: &rng)] }
        list.append(PlanningGroup(name: "group\(g)", layers: layers, allowedCandidates: allowed))
        sens.append((0..<n).map { c in
            // Integer-valued losses keep sums exact; sometimes a candidate is unmeasured (nil) but still listed.
            if allowed.count > 1, allowed.contains(c), Double.random(in: 0...1, using: &rng) < 0.1 { return nil }
            return Double(Int.random(in: 0...50, using: &rng) * (n - c))
        })
        if allowed.allSatisfy({ sens[g][$0] == nil }) { sens[g][allowed[0]] = 1 }
    }
    var tied: [[Int]] = []
    if ties, groups >= 4 {
        // Tie two pairs with overlapping allowed sets (the full set keeps them compatible).
        for pair in [[0, 2], [1, 3]] {
            for g in pair { list[g].allowedCandidates = Array(0..<n); for c in 0..<n where sens[g][c] == nil { sens[g][c] = 7 } }
            tied.append(pair)
        }
    }
    return PlanningProblem(candidates: profile.candidates, groups: list, sensitivities: sens, tiedGroups: tied)
}

/// Enumerates every assignment that respects allowed sets and ties.
func allAssignments(_ problem: PlanningProblem) -> [[Int]] {
    var result: [[Int]] = [[]]
    for g in problem.groups.indices {
        result = result.flatMap { prefix in problem.effectiveAllowed(g).map { prefix + [$0] } }
    }
    return result.filter { a in problem.tiedGroups.allSatisfy { tie in Set(tie.map { a[$0] }).count <= 1 } }
}

/// The brute-force optimum under budgets (kind, limit in reported units), or nil when none fits.
func bruteForce(_ model: CostModel, limits: [(CostKind, Double)]) -> (loss: Double, assignment: [Int])? {
    var best: (Double, [Int])?
    for a in allAssignments(model.problem) {
        guard limits.allSatisfy({ model.value($0.0, assignment: a) <= CostKind.withTolerance($0.1) }) else { continue }
        let loss = model.predictedLoss(assignment: a)
        if best == nil || loss < best!.0 { best = (loss, a) }
    }
    return best
}

/// The brute-force range of one kind over every valid assignment.
func bruteRange(_ model: CostModel, _ kind: CostKind) -> ClosedRange<Double> {
    let values = allAssignments(model.problem).map { model.value(kind, assignment: $0) }
    return values.min()!...values.max()!
}

func close(_ a: Double, _ b: Double, _ tol: Double = 1e-9) -> Bool {
    abs(a - b) <= tol * max(1, abs(a), abs(b))
}

// ILP planner benchmark: a random 200-group x 6-candidate problem with two budgets (average bits and
// latency), solved several times (median wall time; target < 1 s), then 20-point Pareto sweeps over bits (one and
// three proposals per point) and latency.
// Usage: ilp-benchmark [--groups N] [--repeats N] [--seed N]
import Foundation
import MPQPlanner

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func argument(_ name: String, default value: Int) -> Int {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return value }
    return v
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

let groupCount = argument("--groups", default: 200)
let repeats = argument("--repeats", default: 7)
var rng = SplitMix64(state: UInt64(argument("--seed", default: 1)))

let candidates = [
    Candidate(name: "W2A8", weightBits: 2, activationBits: 8), Candidate(name: "W4A4", weightBits: 4, activationBits: 4),
    Candidate(name: "W4A8", weightBits: 4, activationBits: 8), Candidate(name: "W8A8", weightBits: 8, activationBits: 8),
    Candidate(name: "W8A16", weightBits: 8, activationBits: 16), Candidate(name: "W16A16", weightBits: 16, activationBits: 16),
]
let rates: [HardwareProfile.RooflineRate] = [(4096, 32), (8192, 32), (4096, 32), (2048, 32), (1024, 32), (512, 32)].map {
    .init(macsPerCycle: Double($0.0), bytesPerCycle: Double($0.1))
}
let profile = HardwareProfile(name: "benchmark", source: "synthetic", candidates: candidates,
                              size: .init(scaleBits: 32, zeroPointBits: 8), latency: .roofline(clockMHz: 1000, perCandidate: rates))

var groups: [PlanningGroup] = []
var sensitivities: [[Double?]] = []
for g in 0..<groupCount {
    let channels = [16, 32, 64, 128, 256, 512].randomElement(using: &rng)!
    let kernel = [1, 9].randomElement(using: &rng)!
    let spatial = [7, 14, 28, 56].randomElement(using: &rng)!
    let params = channels * channels * kernel
    let layer = LayerCost(name: "layer\(g)", opType: "Conv", parameters: params, outputChannels: channels,
                          macs: params * spatial * spatial, inputElements: channels * spatial * spatial,
                          outputElements: channels * spatial * spatial)
    // Most groups allow everything; some (depthwise-like) lose the 2- and 4-bit candidates.
    let allowed = Double.random(in: 0...1, using: &rng) < 0.8 ? Array(0..<6) : [3, 4, 5]
    groups.append(PlanningGroup(name: "group\(g)", layers: [layer], allowedCandidates: allowed))
    // Sensitivity falls roughly as 4^-bits, scaled per group, with noise.
    let scale = Double.random(in: 0.01...1, using: &rng)
    sensitivities.append(candidates.indices.map { c in
        guard allowed.contains(c) else { return nil }
        let bits = Double(min(candidates[c].weightBits, candidates[c].activationBits)) * 0.6 + Double(candidates[c].weightBits) * 0.4
        return scale * pow(4, -bits) * 1e4 * Double.random(in: 0.7...1.3, using: &rng)
    })
}
// Tie a few residual pairs.
let ties = stride(from: 0, to: groupCount - 1, by: 25).map { [$0, $0 + 1] }
let problem = PlanningProblem(candidates: candidates, groups: groups, sensitivities: sensitivities, tiedGroups: ties)

do {
    let planner = try MixedPrecisionPlanner(problem: problem, profile: profile)
    let bits = (planner.cheapest(.averageWeightBits).value, planner.mostExpensive(.averageWeightBits).value)
    let latency = (planner.cheapest(.latency).value, planner.mostExpensive(.latency).value)
    let budgets = [BudgetConstraint(kind: .averageWeightBits, limit: bits.0 + 0.35 * (bits.1 - bits.0)),
                   BudgetConstraint(kind: .latency, limit: latency.0 + 0.4 * (latency.1 - latency.0))]
    print("problem: \(groupCount) groups x \(candidates.count) candidates, \(ties.count) ties; budgets \(budgets.map(\.text).joined(separator: ", "))")
    var times: [Double] = []
    var plan: Plan?
    for _ in 0..<repeats {
        times.append(try seconds { plan = try planner.plan(budgets: budgets) })
    }
    times.sort()
    let p = plan!
    print(String(format: "single solve: median %.3f s (min %.3f, max %.3f) over %d runs; loss %.4f, %@, %@, proven optimal: %@",
                 times[times.count / 2], times.first!, times.last!, repeats, p.predictedLoss,
                 CostKind.averageWeightBits.format(p.costs[.averageWeightBits]!), CostKind.latency.format(p.costs[.latency]!),
                 p.provenOptimal ? "yes" : "no"))
    var front: ParetoFront?
    let sweepTime = try seconds { front = try ParetoSweep(planner: planner, kind: .averageWeightBits, pointCount: 20).run() }
    print(String(format: "pareto sweep (bits, 20 points): %.3f s wall, %d distinct plans, %d non-dominated, %d greedy points",
                 sweepTime, front!.distinctPlans, front!.points.count, front!.greedy.count))
    for tieBreak in [nil, MixedPrecisionPlanner.TieBreak(cost: .bops, relativeTolerance: 0.01)] {
        var sweepProposals: ParetoFront?
        let proposalsTime = try seconds {
            sweepProposals = try ParetoSweep(planner: planner, kind: .averageWeightBits, pointCount: 20, proposalCount: 3,
                                             tieBreakProposal: tieBreak).run()
        }
        let proposed = sweepProposals!.proposals
        print(String(format: "pareto sweep (bits, 20 points, 3 best%@ per point): %.3f s wall, %d proposals, %d distinct plans",
                     tieBreak == nil ? "" : " + BOPs tie-break", proposalsTime, proposed.reduce(0) { $0 + $1.proposals.count },
                     Set(proposed.flatMap { $0.proposals.map(\.plan.assignment) }).count))
    }
    var sweepLatency: ParetoFront?
    let sweepLatencyTime = try seconds { sweepLatency = try ParetoSweep(planner: planner, kind: .latency, pointCount: 20, fixedBudgets: [budgets[0]]).run() }
    print(String(format: "pareto sweep (latency, 20 points, bits budget fixed): %.3f s wall, %d non-dominated", sweepLatencyTime, sweepLatency!.points.count))
} catch {
    FileHandle.standardError.write(Data("ilp-benchmark: \(error)\n".utf8))
    exit(1)
}

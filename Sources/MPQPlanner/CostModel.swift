/// Per (group, candidate) costs for every budget kind, from layer shapes and a hardware profile.
///
/// - bits: parameters x weight bits, summed over the group's layers; a plan's value is the sum divided by
///   the model's total parameters (`normalizer(.averageWeightBits)`).
/// - size: parameters x weight bits / 8 plus, for layers with weights and integer candidates, one scale
///   (`size.scale_bits`) and, for asymmetric candidates, one zero point (`size.zero_point_bits`) per output
///   channel (per-channel) or per tensor, in bytes.
/// - bops: MACs x weight bits x activation bits (activation bits squared for layers without weights).
/// - latency (ms): roofline `max(MACs / macs_per_cycle, bytes / bytes_per_cycle) / (clock_mhz * 1000)` with
///   bytes = parameters x weight bits / 8 + (input + output elements) x activation bits / 8, or the
///   profile's per-layer table.
public struct CostModel: Sendable {
    public let problem: PlanningProblem
    public let profile: HardwareProfile
    /// Parameters over all groups (the denominator of average weight bits).
    public let totalParameters: Double
    /// The BOPs of the reference model that `%bops` budgets are relative to.
    public let referenceBOPs: Double
    /// What the reference is, e.g. "uniform W8A8".
    public let referenceDescription: String
    /// `costs[kind][g][c]` in the kind's summable units (bit-parameters, bytes, BOPs, ms); latency is absent
    /// when the profile has no latency model. Entries for candidates a group may not use are NaN when unknown.
    public let costs: [CostKind: [[Double]]]

    /// Validates the problem, maps its candidates to the profile's by name, and checks a latency table
    /// covers every layer.
    public init(problem: PlanningProblem, profile: HardwareProfile) throws {
        try problem.validate()
        self.problem = problem
        self.profile = profile
        var profileIndex: [Int] = []
        for c in problem.candidates {
            guard let i = profile.candidateIndex(named: c.name) else {
                throw PlanningError.candidateNotInProfile(candidate: c.name, profile: profile.name, available: profile.candidates.map(\.name))
            }
            profileIndex.append(i)
        }
        try profile.validateLatencyTable(for: problem)
        let layers = problem.groups.flatMap(\.layers)
        totalParameters = layers.reduce(0) { $0 + Double($1.parameters) }
        let totalMACs = layers.reduce(0) { $0 + Double($1.macs) }
        if let w8a8 = problem.candidates.first(where: { $0.name == "W8A8" }) ?? problem.candidates.first(where: { $0.weightBits == 8 && $0.activationBits == 8 }) {
            referenceBOPs = totalMACs * Double(w8a8.bitProduct)
            referenceDescription = "uniform \(w8a8.name)"
        } else {
            let top = problem.candidates.max { $0.bitProduct < $1.bitProduct }!
            referenceBOPs = totalMACs * Double(top.bitProduct)
            referenceDescription = "uniform \(top.name) (the profile has no W8A8; this is the most expensive uniform candidate)"
        }
        var table: [CostKind: [[Double]]] = [:]
        let size = profile.size
        let latency = profile.latency
        for kind in CostKind.allCases {
            if kind == .latency, latency == nil { continue }
            table[kind] = problem.groups.map { group in
                problem.candidates.indices.map { c in
                    group.layers.reduce(0.0) { sum, layer in
                        sum + CostModel.layerCost(kind, layer: layer, candidate: problem.candidates[c], size: size,
                                                  latency: latency, profileCandidate: profileIndex[c])
                    }
                }
            }
        }
        costs = table
    }

    /// One layer's cost for one candidate, in the kind's summable units (NaN when a latency table lacks it).
    public static func layerCost(_ kind: CostKind, layer: LayerCost, candidate: Candidate, size: HardwareProfile.SizeModel,
                                 latency: HardwareProfile.LatencyModel?, profileCandidate: Int) -> Double {
        let params = Double(layer.parameters), wb = Double(candidate.weightBits), ab = Double(candidate.activationBits)
        switch kind {
        case .averageWeightBits:
            return params * wb
        case .weightBytes:
            var bits = params * wb
            if layer.parameters > 0, candidate.numericFormat == .int {
                let sets = candidate.perChannel ? Double(max(1, layer.outputChannels)) : 1
                bits += sets * Double(size.scaleBits + (candidate.symmetric ? 0 : size.zeroPointBits))
            }
            return bits / 8
        case .bops:
            // A layer without weights (Q·Kᵀ, attention·V) multiplies two activations.
            return Double(layer.macs) * (layer.parameters == 0 ? ab : wb) * ab
        case .latency:
            switch latency {
            case .none:
                return .nan
            case .roofline(let clock, let rates)?:
                let rate = rates[profileCandidate]
                let bytes = params * wb / 8 + Double(layer.inputElements + layer.outputElements) * ab / 8
                let cycles = max(Double(layer.macs) / rate.macsPerCycle, bytes / rate.bytesPerCycle)
                return cycles / (clock * 1000)
            case .table(let t)?:
                return t[layer.name]?[profileCandidate] ?? .nan
            }
        }
    }

    /// Whether budgets of this kind can be evaluated.
    public func supports(_ kind: CostKind) -> Bool { costs[kind] != nil }

    /// The cost of group `g` at candidate `c` in summable units.
    public func cost(_ kind: CostKind, group g: Int, candidate c: Int) -> Double {
        costs[kind]![g][c]
    }

    /// Dividing a summed cost by this gives the kind's reported value (total parameters for bits, 1 otherwise).
    public func normalizer(_ kind: CostKind) -> Double {
        kind == .averageWeightBits ? max(totalParameters, 1) : 1
    }

    /// The reported value of a full assignment (one candidate per group): average bits, bytes, BOPs or ms.
    public func value(_ kind: CostKind, assignment: [Int]) -> Double {
        let table = costs[kind]!
        return assignment.enumerated().reduce(0.0) { $0 + table[$1.offset][$1.element] } / normalizer(kind)
    }

    /// Total predicted loss of an assignment.
    public func predictedLoss(assignment: [Int]) -> Double {
        assignment.enumerated().reduce(0.0) { $0 + (problem.sensitivities[$1.offset][$1.element] ?? .nan) }
    }
}

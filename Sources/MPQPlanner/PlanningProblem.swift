/// The shape and work of one quantizable layer, per sample.
public struct LayerCost: Sendable, Equatable, Hashable, Codable {
    public var name: String
    /// The ONNX op type (Conv, Gemm, MatMul, ...); depthwise convolutions use `DepthwiseConv`.
    public var opType: String
    /// Weight count (0 for ops without weights, such as Add or an activation-activation MatMul).
    public var parameters: Int
    /// Output channels: the number of per-channel scales for per-channel candidates.
    public var outputChannels: Int
    /// Multiply-accumulates per sample.
    public var macs: Int
    /// Input activation elements read per sample.
    public var inputElements: Int
    /// Output activation elements written per sample.
    public var outputElements: Int

    public init(name: String, opType: String, parameters: Int = 0, outputChannels: Int = 1, macs: Int = 0,
                inputElements: Int = 0, outputElements: Int = 0) {
        self.name = name
        self.opType = opType
        self.parameters = parameters
        self.outputChannels = outputChannels
        self.macs = macs
        self.inputElements = inputElements
        self.outputElements = outputElements
    }
}

/// Layers whose quantizers must share one candidate (a producer's output with its consumers' inputs and weights).
public struct PlanningGroup: Sendable, Equatable, Hashable, Codable {
    public var name: String
    public var layers: [LayerCost]
    /// Indices into `PlanningProblem.candidates` that every layer of the group supports.
    public var allowedCandidates: [Int]

    public init(name: String, layers: [LayerCost], allowedCandidates: [Int]) {
        self.name = name
        self.layers = layers
        self.allowedCandidates = allowedCandidates
    }

    /// The group's multiply-accumulates per sample, over all its layers.
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }

    /// The distinct op types of the group's layers, in order of appearance.
    public var opTypes: [String] {
        var seen = Set<String>()
        return layers.map(\.opType).filter { seen.insert($0).inserted }
    }
}

/// Everything the planner needs, independent of how sensitivities were measured: groups, candidates,
/// one predicted loss increase per (group, candidate), and sets of groups that must take the same candidate.
public struct PlanningProblem: Sendable, Equatable {
    public var candidates: [Candidate]
    public var groups: [PlanningGroup]
    /// `sensitivities[g][c]`: the predicted loss increase when group `g` uses candidate `c`; nil = not allowed
    /// (not measured). A candidate is usable by a group when it is in `allowedCandidates` and has a sensitivity.
    public var sensitivities: [[Double?]]
    /// Sets of group indices that must take the same candidate (residual joins, say). Overlapping sets merge.
    public var tiedGroups: [[Int]]

    public init(candidates: [Candidate], groups: [PlanningGroup], sensitivities: [[Double?]], tiedGroups: [[Int]] = []) {
        self.candidates = candidates
        self.groups = groups
        self.sensitivities = sensitivities
        self.tiedGroups = tiedGroups
    }

    /// The candidates group `g` may use: allowed and with a sensitivity, sorted, without duplicates.
    public func effectiveAllowed(_ g: Int) -> [Int] {
        let row = g < sensitivities.count ? sensitivities[g] : []
        return Set(groups[g].allowedCandidates).filter { $0 >= 0 && $0 < candidates.count && $0 < row.count && row[$0] != nil }.sorted()
    }

    /// Checks every index, count and number; throws `PlanningError` naming the group, candidate and value.
    public func validate() throws {
        guard !groups.isEmpty else { throw PlanningError.noGroups }
        guard !candidates.isEmpty else { throw PlanningError.noCandidates }
        guard sensitivities.count == groups.count else {
            throw PlanningError.sensitivityShape(problem: "the table has \(sensitivities.count) rows for \(groups.count) groups; give one row per group")
        }
        for (g, group) in groups.enumerated() {
            guard sensitivities[g].count == candidates.count else {
                throw PlanningError.sensitivityShape(problem: "the row of group '\(group.name)' has \(sensitivities[g].count) entries for \(candidates.count) candidates; give one entry (nil when not allowed) per candidate")
            }
            for c in group.allowedCandidates where c < 0 || c >= candidates.count {
                throw PlanningError.candidateIndexOutOfRange(group: group.name, index: c, candidateCount: candidates.count)
            }
            for (c, s) in sensitivities[g].enumerated() {
                if let s, !s.isFinite {
                    throw PlanningError.nonFiniteSensitivity(group: group.name, candidate: candidates[c].name, value: s)
                }
            }
            for layer in group.layers {
                for (field, value) in [("parameters", layer.parameters), ("outputChannels", layer.outputChannels), ("macs", layer.macs),
                                       ("inputElements", layer.inputElements), ("outputElements", layer.outputElements)] where value < 0 {
                    throw PlanningError.invalidLayer(group: group.name, layer: layer.name, field: field, value: value)
                }
            }
            if effectiveAllowed(g).isEmpty {
                let allowedNames = group.allowedCandidates.filter { candidates.indices.contains($0) }.map { candidates[$0].name }
                let measured = sensitivities[g].indices.filter { sensitivities[g][$0] != nil }.map { candidates[$0].name }
                throw PlanningError.noAllowedCandidate(group: group.name, opTypes: group.opTypes, allowed: allowedNames, measured: measured)
            }
        }
        for (t, tie) in tiedGroups.enumerated() {
            for g in tie where g < 0 || g >= groups.count {
                throw PlanningError.tiedGroupOutOfRange(tie: t, index: g, groupCount: groups.count)
            }
        }
        for component in components() where component.count > 1 && componentAllowed(component).isEmpty {
            var allowed: [String: [String]] = [:]
            for g in component { allowed[groups[g].name] = effectiveAllowed(g).map { candidates[$0].name } }
            throw PlanningError.tiedGroupsHaveNoCommonCandidate(groups: component.map { groups[$0].name }, allowed: allowed)
        }
    }

    /// Groups partitioned by ties (union of overlapping tie sets); singletons for untied groups.
    /// Each component is sorted; components are ordered by their first group. Assumes valid indices.
    public func components() -> [[Int]] {
        var parent = Array(groups.indices)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        for tie in tiedGroups {
            let valid = tie.filter { groups.indices.contains($0) }
            guard let first = valid.first else { continue }
            for g in valid.dropFirst() {
                let a = find(first), b = find(g)
                if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        var byRoot: [Int: [Int]] = [:]
        for g in groups.indices { byRoot[find(g), default: []].append(g) }
        return byRoot.values.sorted { $0[0] < $1[0] }
    }

    /// The candidates every group of a component may use.
    public func componentAllowed(_ component: [Int]) -> [Int] {
        guard let first = component.first else { return [] }
        var set = Set(effectiveAllowed(first))
        for g in component.dropFirst() { set.formIntersection(effectiveAllowed(g)) }
        return set.sorted()
    }
}

/// Errors building or solving a mixed-precision plan. Messages name the group, candidate, budget or value
/// and what would fix it.
public enum PlanningError: Error, CustomStringConvertible, Equatable, Sendable {
    case noGroups
    case noCandidates
    /// The sensitivity table does not have one row per group and one entry per candidate.
    case sensitivityShape(problem: String)
    case candidateIndexOutOfRange(group: String, index: Int, candidateCount: Int)
    case nonFiniteSensitivity(group: String, candidate: String, value: Double)
    case invalidLayer(group: String, layer: String, field: String, value: Int)
    /// No candidate is both allowed (by the hardware) and measured (has a sensitivity).
    case noAllowedCandidate(group: String, opTypes: [String], allowed: [String], measured: [String])
    case tiedGroupOutOfRange(tie: Int, index: Int, groupCount: Int)
    /// Tied groups share no candidate.
    case tiedGroupsHaveNoCommonCandidate(groups: [String], allowed: [String: [String]])
    /// The problem's candidates are not all in the hardware profile.
    case candidateNotInProfile(candidate: String, profile: String, available: [String])
    /// A budget needs something the profile or model lacks (a latency model, MACs for BOPs).
    case budgetUnavailable(budget: String, reason: String)
    /// No plan meets the budgets. `jointly` is true when each budget alone can be met but not all together.
    case infeasible(shortfalls: [BudgetShortfall], jointly: Bool)
    case invalidSweep(String)
    case solverFailed(String)

    public var description: String {
        switch self {
        case .noGroups:
            return "the model has no quantizable groups to plan."
        case .noCandidates:
            return "the problem has no candidates; the hardware profile must list at least one."
        case .sensitivityShape(let problem):
            return "sensitivity table: \(problem)."
        case .candidateIndexOutOfRange(let group, let index, let count):
            return "group '\(group)' allows candidate index \(index), but there are \(count) candidates (valid indices 0..<\(count))."
        case .nonFiniteSensitivity(let group, let candidate, let value):
            return "group '\(group)': the sensitivity for \(candidate) is \(value); sensitivities must be finite (use nil for a candidate that is not allowed)."
        case .invalidLayer(let group, let layer, let field, let value):
            return "group '\(group)', layer '\(layer)': \(field) is \(value); counts must be 0 or more."
        case .noAllowedCandidate(let group, let ops, let allowed, let measured):
            let a = allowed.isEmpty ? "none" : allowed.joined(separator: ", ")
            let m = measured.isEmpty ? "none" : measured.joined(separator: ", ")
            return "group '\(group)' (ops: \(ops.joined(separator: ", "))) has no usable candidate: the hardware allows \(a) for these ops and sensitivities were measured for \(m). Add a candidate every op in the group supports to the profile's op_support, mark the op \"float_only\", or measure the missing sensitivities."
        case .tiedGroupOutOfRange(let tie, let index, let count):
            return "tied set #\(tie) names group index \(index), but there are \(count) groups (valid indices 0..<\(count))."
        case .tiedGroupsHaveNoCommonCandidate(let groups, let allowed):
            let detail = groups.map { "\($0): \(allowed[$0]?.joined(separator: ", ") ?? "none")" }.joined(separator: "; ")
            return "groups \(groups.joined(separator: ", ")) must share a candidate but have none in common (\(detail)). Allow a common candidate in the profile's op_support or untie them."
        case .candidateNotInProfile(let candidate, let profile, let available):
            return "candidate \(candidate) is not in hardware profile '\(profile)' (it has \(available.joined(separator: ", ")))."
        case .budgetUnavailable(let budget, let reason):
            return "budget \(budget) cannot be used: \(reason)."
        case .infeasible(let shortfalls, let jointly):
            let lines = shortfalls.map(\.message).joined(separator: "; ")
            if jointly {
                return "no plan meets all budgets at once, although each can be met alone (\(lines)). Relax one of them."
            }
            return "\(lines). Relax the budget, or add cheaper candidates to the hardware profile."
        case .invalidSweep(let text):
            return "Pareto sweep: \(text)."
        case .solverFailed(let text):
            return "the integer program solver failed: \(text)."
        }
    }
}

/// A budget and the cheapest value any plan can reach for it.
public struct BudgetShortfall: Sendable, Equatable {
    /// The budget as the user wrote it (e.g. `3.0bits`).
    public var budget: String
    public var kind: CostKind
    /// The limit in the kind's units (average bits, bytes, milliseconds, BOPs).
    public var limit: Double
    /// The cheapest value achievable for this kind alone, in the same units.
    public var cheapestAchievable: Double

    public init(budget: String, kind: CostKind, limit: Double, cheapestAchievable: Double) {
        self.budget = budget
        self.kind = kind
        self.limit = limit
        self.cheapestAchievable = cheapestAchievable
    }

    public var isMet: Bool { cheapestAchievable <= CostKind.withTolerance(limit) }

    public var message: String {
        let verb = isMet ? "can be met alone" : "cannot be met"
        return "budget \(budget) \(verb): the cheapest plan \(kind.cheapestPhrase) \(kind.format(cheapestAchievable))"
    }
}

extension PlanningProblem {
    /// The candidate each pinned group must take (group index → candidate index), checked against the problem.
    ///
    /// A pin applies to every group it matches and to the groups tied to them. Throws `PinError` for a pin
    /// that matches nothing, names a candidate the profile lacks or one a matched group cannot take, or
    /// that disagrees with another pin on some group.
    public func resolve(_ pins: [Pin]) throws -> [Int: Int] {
        var chosen: [Int: (candidate: Int, pin: Pin)] = [:]
        let componentOf = Dictionary(components().flatMap { c in c.map { ($0, c) } }, uniquingKeysWith: { a, _ in a })
        for pin in pins {
            guard let c = candidates.firstIndex(where: { $0.name.caseInsensitiveCompare(pin.candidate) == .orderedSame }) else {
                throw PinError.unknownCandidate(pin, available: candidates.map(\.name))
            }
            let matched = try groups.indices.filter { try pin.matches(groups[$0]) }
            guard !matched.isEmpty else { throw PinError.matchesNothing(pin, examples: groups.prefix(3).map(\.name)) }
            for g in Set(matched.flatMap { componentOf[$0] ?? [$0] }).sorted() {
                guard effectiveAllowed(g).contains(c) else {
                    throw PinError.notAllowed(pin, group: groups[g].name, allowed: effectiveAllowed(g).map { candidates[$0].name })
                }
                if let earlier = chosen[g], earlier.candidate != c {
                    throw PinError.conflict(earlier.pin, pin, group: groups[g].name)
                }
                chosen[g] = (c, pin)
            }
        }
        return chosen.mapValues(\.candidate)
    }

    /// The problem with each pinned group allowed only its pinned candidate (see `resolve(_:)`).
    public func pinning(_ pins: [Pin]) throws -> PlanningProblem {
        var problem = self
        for (g, c) in try resolve(pins) { problem.groups[g].allowedCandidates = [c] }
        return problem
    }
}

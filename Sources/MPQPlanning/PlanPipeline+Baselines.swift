import MPQPlanner

extension PlanPipeline {
    /// Stage 4: uniform-precision points, one per candidate, each measured: the candidate everywhere it is
    /// allowed and the nearest allowed one elsewhere; candidates that would break a tie are skipped.
    public func uniformBaseline(_ setup: PlannerSetup, measurements: inout PlanMeasurements) throws -> [PlanPoint] {
        let problem = setup.problem
        var points: [PlanPoint] = []
        for (c, candidate) in problem.candidates.enumerated() {
            let assignment = problem.groups.indices.map { Self.nearest(c, in: problem.effectiveAllowed($0), candidates: problem.candidates) }
            guard Self.respectsTies(assignment, problem.tiedGroups) else { continue }
            let m = try measurements.measure(assignment)
            points.append(PlanPoint(label: candidate.name, assignment: assignment,
                                    candidateNames: assignment.map { problem.candidates[$0].name }, cost: setup.cost(assignment),
                                    predictedLoss: setup.fp32Loss + setup.model.predictedLoss(assignment: assignment),
                                    measuredLoss: m.loss, exact: assignment.allSatisfy { $0 == c }, validation: m.validation))
            onEvent(.uniformMeasured(candidate: candidate.name, loss: m.loss))
        }
        return points
    }

    /// Stage 7: the greedy baseline's plans, measured for comparison with the measured front.
    public func greedyBaseline(_ greedy: [ParetoPoint], setup: PlannerSetup, measurements: inout PlanMeasurements) throws -> [PlanPoint] {
        onEvent(.progress(.greedyBaseline, done: 0, total: greedy.count))
        var points: [PlanPoint] = []
        for (i, point) in greedy.enumerated() {
            let m = try measurements.measure(point.plan.assignment)
            points.append(PlanPoint(label: "greedy \(i + 1)", assignment: point.plan.assignment, candidateNames: point.plan.candidateNames,
                                    cost: point.cost, predictedLoss: setup.fp32Loss + point.predictedLoss, measuredLoss: m.loss,
                                    validation: m.validation))
            onEvent(.progress(.greedyBaseline, done: i + 1, total: greedy.count))
        }
        return points
    }

    /// The allowed candidate closest to `c` in bit cost (not above it when possible).
    static func nearest(_ c: Int, in allowed: [Int], candidates: [Candidate]) -> Int {
        if allowed.contains(c) { return c }
        let target = candidates[c].bitProduct
        let below = allowed.filter { candidates[$0].bitProduct <= target }
        let pool = below.isEmpty ? allowed : below
        return pool.min { abs(candidates[$0].bitProduct - target) < abs(candidates[$1].bitProduct - target) } ?? c
    }

    static func respectsTies(_ assignment: [Int], _ ties: [[Int]]) -> Bool {
        ties.allSatisfy { set in Set(set.map { assignment[$0] }).count <= 1 }
    }
}

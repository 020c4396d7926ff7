import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQPlanner

/// Measures the real calibration loss of a whole mixed-precision assignment.
public struct PlanMeasurement {
    public var grouping: QuantizerGrouping
    public var candidates: [Candidate]
    public var search: StepSearch

    public init(grouping: QuantizerGrouping, candidates: [Candidate], search: StepSearch) {
        self.grouping = grouping
        self.candidates = candidates
        self.search = search
    }

    /// Quantizer targets of every group at its assigned candidate.
    public func targets(for assignment: [Int]) throws -> [QuantizerTarget] {
        try zip(grouping.groups, assignment).flatMap { group, c in try candidates[c].targets(for: group) }
    }

    /// Runs the step search on the whole assignment: its loss, quantizers and state.
    public func measure(_ assignment: [Int], session: inout CalibrationSession,
                        probe: inout CalibrationSession) throws -> StepSearchResult {
        try search.run(targets(for: assignment), session: &session, probe: &probe)
    }
}

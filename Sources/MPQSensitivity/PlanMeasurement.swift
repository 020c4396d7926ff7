import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQPlanner

/// How a proposed plan's calibration loss is measured.
public enum PlanMeasurementMode: String, Sendable, Codable, CaseIterable {
    /// The sweep's quantizers for each group at its candidate, composed, in one evaluation.
    case composed
    /// LAPQ's whole-model step search on the plan (about a hundred evaluations).
    case stepSearch = "step-search"
}

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

    /// The plan's quantizers composed from the sweep's choice for each group at its candidate, or nil
    /// when the table lacks one (a table written before it recorded quantizers).
    public func composedQuantizers(for assignment: [Int], table: SensitivityTable) -> [TensorQuantizer]? {
        var all: [TensorQuantizer] = []
        for (group, c) in zip(grouping.groups, assignment) {
            guard let chosen = table.quantizers[group.name]?[candidates[c].name] else { return nil }
            all += chosen
        }
        return all
    }

    /// The calibration loss of composed quantizers: one evaluation, no search. The cheap measurement
    /// that ranks proposals; the chosen plan alone gets the whole-model search (`measure`).
    public func composedLoss(_ quantizers: [TensorQuantizer], session: CalibrationSession) throws -> Double {
        let settings = StepSearch.settings(quantizers, biases: search.biases(in: session.graph))
        return search.loss(ofBatches: try session.outputs(settings), in: session)
    }

    /// Runs the step search on the whole assignment: its loss, quantizers and state.
    public func measure(_ assignment: [Int], session: inout CalibrationSession,
                        probe: inout CalibrationSession) throws -> StepSearchResult {
        try search.run(targets(for: assignment), session: &session, probe: &probe)
    }
}

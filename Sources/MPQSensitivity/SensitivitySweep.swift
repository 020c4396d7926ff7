import Foundation
import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQPlanner

/// Measures every (group, candidate) sensitivity with the LAPQ step search, one group at a time.
public struct SensitivitySweep {
    /// What the rest of the model is while one group is measured.
    public enum Baseline: String, Sendable, Codable, CaseIterable {
        /// Everything else FP32 (the default, as in AIMET's phase 1).
        case fp32
        /// Everything else at its most precise allowed candidate.
        case highest
    }

    public var grouping: QuantizerGrouping
    public var candidates: [Candidate]
    /// Allowed candidate indices per group.
    public var allowed: [[Int]]
    public var search: StepSearch
    public var baseline: Baseline

    public init(grouping: QuantizerGrouping, candidates: [Candidate], allowed: [[Int]], search: StepSearch,
                baseline: Baseline = .fp32) {
        self.grouping = grouping
        self.candidates = candidates
        self.allowed = allowed
        self.search = search
        self.baseline = baseline
    }

    /// Fills the missing groups of `table`, saving it after each group when `store` is given.
    ///
    /// `progress` gets (groups done, groups total) after each group.
    public func run(_ table: inout SensitivityTable, session: inout CalibrationSession, probe: inout CalibrationSession,
                    store: URL?, progress: ((Int, Int) -> Void)? = nil) throws {
        // The fixed part of the model while a group is measured, and its loss.
        var fixedByGroup: [[TensorQuantizer]] = Array(repeating: [], count: grouping.groups.count)
        var baseState: CalibrationSession.State? = nil
        var baseLoss = table.referenceLoss
        if baseline == .highest {
            var all: [[TensorQuantizer]] = []
            var quick = search
            quick.options.initialization = .mmse
            quick.options.joint = nil
            for (g, group) in grouping.groups.enumerated() {
                let best = allowed[g].max { candidates[$0].bitProduct < candidates[$1].bitProduct }
                let targets = try best.map { try candidates[$0].targets(for: group) } ?? []
                all.append(targets.isEmpty ? [] : try quick.run(targets, session: &session, probe: &probe).quantizers)
            }
            let every = all.flatMap { $0 }
            for g in grouping.groups.indices {
                fixedByGroup[g] = all.enumerated().filter { $0.offset != g }.flatMap(\.element)
            }
            let state = try session.evaluate(StepSearch.settings(every, biases: search.biases(in: session.graph)))
            baseState = state
            baseLoss = search.loss(of: state, in: session)
        }
        var done = table.groups.filter { table.increases[$0] != nil }.count
        for (g, group) in grouping.groups.enumerated() where table.increases[group.name] == nil {
            let start = Date()
            var row: [String: Double?] = [:]
            for (c, candidate) in candidates.enumerated() {
                guard allowed[g].contains(c) else { row[candidate.name] = .some(nil); continue }
                let targets = try candidate.targets(for: group)
                if targets.isEmpty { row[candidate.name] = 0; continue }
                let result = try search.run(targets, session: &session, probe: &probe,
                                            base: baseState, fixed: fixedByGroup[g])
                row[candidate.name] = result.loss - baseLoss
            }
            table.increases[group.name] = row
            table.seconds[group.name] = Date().timeIntervalSince(start)
            if let store { try table.save(to: store) }
            done += 1
            progress?(done, grouping.groups.count)
        }
    }
}

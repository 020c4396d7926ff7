import Foundation
import MPQExecutor
import MPQGraph
import MPQKernels
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

    /// Fills the missing groups of `table`, journaling each group and saving the table at the end when `store` is given
    /// (groups in the store's journal from an interrupted sweep are taken, not measured again).
    ///
    /// Each loss increase is measured on all calibration data, or on the probe's samples against the probe's own
    /// reference when the search `scoresOnProbe`.
    ///
    /// `progress` gets (groups done, groups total) after each group.
    /// `threads` workers (default `KernelThreads.count`) measure groups in parallel. With `only`, just those groups
    /// are measured (a shard's).
    public func run(_ table: inout SensitivityTable, session: inout CalibrationSession, probe: inout CalibrationSession,
                    store: URL?, threads: Int? = nil, only: Set<String>? = nil,
                    progress: ((Int, Int) -> Void)? = nil) throws {
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
            let settings = StepSearch.settings(every, biases: search.biases(in: session.graph))
            if search.scoresOnProbe {
                // Nothing is evaluated on all data then: the base state would go unused.
                baseLoss = try search.probeLoss(of: settings, probe: &probe)
            } else {
                let state = try session.evaluate(settings)
                baseState = state
                baseLoss = search.loss(of: state, in: session)
            }
        } else if search.scoresOnProbe {
            baseLoss = try search.probeLoss(of: [:], probe: &probe)
        }
        let journal = store.map(SensitivityJournal.init(besides:))
        if let journal { try table.merge(journal) }
        let pending = grouping.groups.indices.filter {
            table.increases[grouping.groups[$0].name] == nil && (only?.contains(grouping.groups[$0].name) ?? true)
        }
        let shared = Locked((table: table, done: table.groups.count - pending.count))
        let fixed = fixedByGroup
        // Groups are independent: each worker measures whole groups on its own copy of the sessions, and a
        // group's numbers do not depend on which worker measured it, so the table is the same for any thread
        // count. Each group is appended to the table's journal as it is done, so an interrupted sweep resumes; the
        // table itself is written (atomically) once, at the end.
        try ParallelWork.forEach(pending.count, workers: threads ?? KernelThreads.count, state: (session, probe)) { sessions, i in
            let g = pending[i]
            let started = Date()
            let (row, chosen) = try measure(group: g, session: &sessions.0, probe: &sessions.1, base: baseState,
                                            baseLoss: baseLoss, fixed: fixed[g])
            try shared.withValue { shared in
                let name = grouping.groups[g].name
                shared.table.increases[name] = row
                shared.table.quantizers[name] = chosen
                shared.table.seconds[name] = Date().timeIntervalSince(started)
                try journal?.append(shared.table.journalEntry(name))
                shared.done += 1
                progress?(shared.done, grouping.groups.count)
            }
        }
        table = shared.withValue { $0.table }
        if let store {
            try table.save(to: store)
            journal?.remove()
        }
    }

    /// One group's loss increase and chosen quantizers at every allowed candidate.
    private func measure(group g: Int, session: inout CalibrationSession, probe: inout CalibrationSession,
                         base: CalibrationSession.State?, baseLoss: Double, fixed: [TensorQuantizer])
        throws -> ([String: Double?], [String: [TensorQuantizer]]) {
        let group = grouping.groups[g]
        var row: [String: Double?] = [:]
        var chosen: [String: [TensorQuantizer]] = [:]
        for (c, candidate) in candidates.enumerated() {
            guard allowed[g].contains(c) else { row[candidate.name] = .some(nil); continue }
            let targets = try candidate.targets(for: group)
            if targets.isEmpty { row[candidate.name] = 0; chosen[candidate.name] = []; continue }
            let result = try search.run(targets, session: &session, probe: &probe, base: base, fixed: fixed)
            row[candidate.name] = result.loss - baseLoss
            chosen[candidate.name] = result.quantizers
        }
        return (row, chosen)
    }
}

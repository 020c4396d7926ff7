import Foundation
import MPQSensitivity

extension PlanPipeline {
    /// Where the sensitivity table is stored, its key (model bytes, data, labels, profile and settings) and what
    /// the key covers.
    public func sensitivityStore() throws -> (url: URL, key: String, description: [String: String]) {
        var hash = ContentHash()
        hash.combine(try Data(contentsOf: URL(fileURLWithPath: request.model)))
        let calibration = prepared.calibration
        for name in calibration.inputs.keys.sorted() { hash.combine(calibration.inputs[name]!.asFloats) }
        if let labels = calibration.labels { hash.combine(labels) }
        hash.combine(request.profileText)
        let options = search.options
        let settings = "loss=\(request.loss.name);baseline=\(request.baseline.rawValue);keepFirstLast=\(request.keepFirstLast);batch=\(request.batchSize);search=\(options.initialization.rawValue);p=\(options.pValues);pSweep=\(effectivePSweepSamples.rawValue);int32Biases=\(options.int32Biases);finalists=\(options.probeFinalists);unsweptFrom=\(options.unsweptFromBits.map(String.init) ?? "off");v8"
            + (sensitivitySamples == .probe ? ";sensitivitySamples=probe" : "")
            + (workspace.session.padding != nil ? ";paddingTrimmed" : "")
        hash.combine(settings)
        let description = ["model": request.model, "profile": request.profile.name, "settings": settings,
                           "calibration samples": "\(calibration.sampleCount)"]
        return (request.cacheDirectory.appendingPathComponent("sensitivity-\(hash.hex).json"), hash.hex, description)
    }

    /// Stage 2: every group's loss increase at every allowed candidate, from the stored table when its key
    /// matches; missing groups are measured and journaled as each is done, so an interrupted sweep resumes.
    ///
    /// Shard files of the same key beside the table (`mpq sensitivity --shard I/N`) are merged in first; when
    /// some exist but groups are still missing, this stops with the shards to run (unless
    /// `measuresMissingShards`). With `request.shard` only that shard's groups are measured, into its own file,
    /// and the shard's table (the others' groups absent) is returned.
    public func sensitivities() throws -> SensitivityTable {
        let store = try sensitivityStore()
        if let shard = request.shard { return try measure(shard, store: store) }
        // Another process sweeping the same table: wait for it, then reuse its groups instead of measuring them again.
        let lock = try CacheLock(for: store.url) { onEvent(.waitingForSensitivities(holder: $0, lock: store.url.path + ".lock")) }
        defer { withExtendedLifetime(lock) {} }
        var table = try storedTable(at: store.url, store: store) ?? newTable(store)
        // Groups an interrupted sweep journaled are kept (the sweep writes the table when it ends).
        let journal = SensitivityJournal(besides: store.url)
        let journaled = try table.merge(journal)
        let shards = try mergeShards(into: &table, table: store.url, key: store.key)
        if table.isComplete { try settle(table, at: store.url, journal: journal, changed: shards.merged > 0 || journaled > 0) }
        let missing = table.groups.filter { table.increases[$0] == nil }
        guard !missing.isEmpty else {
            onEvent(.sensitivitiesReused(cache: store.url))
            return table
        }
        if let count = shards.count, !request.measuresMissingShards {
            let assignment = shardAssignment(count: count)
            let missingSet = Set(missing)
            let indices = Set(table.groups.indices.filter { missingSet.contains(table.groups[$0]) }.map { assignment[$0] })
            throw ShardError.missing(indices: indices.sorted(), count: count)
        }
        try sweep(&table, store: store.url, only: nil)
        return table
    }

    /// Each group's shard among `count`, balancing the groups' multiply-accumulates.
    public func shardAssignment(count: Int) -> [Int] {
        SensitivityShard.assignment(costs: prepared.problem.groups.map(\.macs), count: count)
    }

    /// Measures one shard's groups into its own file (resuming it), under the shard file's own lock.
    private func measure(_ shard: SensitivityShard, store: (url: URL, key: String, description: [String: String])) throws -> SensitivityTable {
        let url = shard.file(besides: store.url)
        let lock = try CacheLock(for: url) { onEvent(.waitingForSensitivities(holder: $0, lock: url.path + ".lock")) }
        defer { withExtendedLifetime(lock) {} }
        var table = try storedTable(at: url, store: store) ?? newTable(store)
        table.description["shard"] = shard.description
        let journal = SensitivityJournal(besides: url)
        let journaled = try table.merge(journal)
        let assignment = shardAssignment(count: shard.count)
        let mine = Set(table.groups.indices.filter { assignment[$0] == shard.index }.map { table.groups[$0] })
        if mine.allSatisfy({ table.increases[$0] != nil }) {
            try settle(table, at: url, journal: journal, changed: journaled > 0)
            onEvent(.sensitivitiesReused(cache: url))
            return table
        }
        try sweep(&table, store: url, only: mine)
        return table
    }

    /// A complete table: written to `url` when merging `changed` it, and its journal removed (also one left by a
    /// kill between the table's write and the journal's removal).
    private func settle(_ table: SensitivityTable, at url: URL, journal: SensitivityJournal, changed: Bool) throws {
        if changed { try table.save(to: url) }
        journal.remove()
    }

    /// The table stored at `url` when it is of these inputs; a file of another key named like ours is refused.
    private func storedTable(at url: URL, store: (url: URL, key: String, description: [String: String])) throws -> SensitivityTable? {
        guard let stored = try SensitivityTable.load(from: url) else { return nil }
        if url != store.url, stored.key != store.key {
            throw ShardError.foreign(path: url.path, key: stored.key, expected: store.key)
        }
        return stored.key == store.key ? stored : nil
    }

    private func newTable(_ store: (url: URL, key: String, description: [String: String])) -> SensitivityTable {
        SensitivityTable(key: store.key, description: store.description, groups: prepared.grouping.groups.map(\.name),
                         candidates: prepared.problem.candidates.map(\.name),
                         referenceLoss: search.loss(of: workspace.session.reference, in: workspace.session))
    }

    /// Copies the groups of every shard file of `key` into `table`; returns how many files were merged and their
    /// shard count (nil when there are none).
    private func mergeShards(into table: inout SensitivityTable, table url: URL, key: String) throws -> (merged: Int, count: Int?) {
        let files = SensitivityShard.files(besides: url)
        guard let count = files.first?.shard.count else { return (0, nil) }
        guard files.allSatisfy({ $0.shard.count == count }) else { throw ShardError.mixedCounts(paths: files.map(\.url.path)) }
        for file in files {
            // Groups a running or killed shard has journaled count as measured (its rerun keeps them too).
            try table.merge(SensitivityJournal(besides: file.url))
            guard let shard = try SensitivityTable.load(from: file.url) else { continue }
            guard shard.key == key, shard.groups == table.groups, shard.candidates == table.candidates else {
                throw ShardError.foreign(path: file.url.path, key: shard.key, expected: key)
            }
            for group in shard.increases.keys { table.add(shard.journalEntry(group)) }
        }
        return (files.count, count)
    }

    /// Measures the missing groups of `table` (all, or those in `only`), journaling each and saving to `store` at the end.
    private func sweep(_ table: inout SensitivityTable, store: URL, only: Set<String>?) throws {
        let problem = prepared.problem
        let missing = table.groups.filter { table.increases[$0] == nil && (only?.contains($0) ?? true) }.count
        onEvent(.sensitivitiesStarted(missingGroups: missing, groups: table.groups.count, candidates: problem.candidates.count,
                                      cache: store))
        var sweepSearch = search
        sweepSearch.options.scoresOnProbe = sensitivitySamples == .probe
        let sweep = SensitivitySweep(grouping: prepared.grouping, candidates: problem.candidates,
                                     allowed: problem.groups.indices.map { problem.effectiveAllowed($0) },
                                     search: sweepSearch, baseline: request.baseline)
        let total = table.groups.count
        onEvent(.progress(.sensitivities, done: total - missing, total: total))
        try sweep.run(&table, session: &workspace.session, probe: &workspace.probe, store: store, only: only) { done, _ in
            onEvent(.progress(.sensitivities, done: done, total: total))
        }
    }
}

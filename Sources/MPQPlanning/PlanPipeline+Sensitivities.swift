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
        let settings = "loss=\(request.loss.name);baseline=\(request.baseline.rawValue);keepFirstLast=\(request.keepFirstLast);batch=\(request.batchSize);search=\(options.initialization.rawValue);p=\(options.pValues);int32Biases=\(options.int32Biases);v5"
        hash.combine(settings)
        let description = ["model": request.model, "profile": request.profile.name, "settings": settings,
                           "calibration samples": "\(calibration.sampleCount)"]
        return (request.cacheDirectory.appendingPathComponent("sensitivity-\(hash.hex).json"), hash.hex, description)
    }

    /// Stage 2: every group's loss increase at every allowed candidate, from the stored table when its key
    /// matches; missing groups are measured and the table saved after each, so an interrupted sweep resumes.
    public func sensitivities() throws -> SensitivityTable {
        let store = try sensitivityStore()
        // Another process sweeping the same table: wait for it, then reuse its groups instead of measuring them again.
        let lock = try CacheLock(for: store.url) { onEvent(.waitingForSensitivities(holder: $0, lock: store.url.path + ".lock")) }
        defer { withExtendedLifetime(lock) {} }
        let problem = prepared.problem
        var table: SensitivityTable
        if let stored = try SensitivityTable.load(from: store.url), stored.key == store.key {
            table = stored
        } else {
            table = SensitivityTable(key: store.key, description: store.description, groups: prepared.grouping.groups.map(\.name),
                                     candidates: problem.candidates.map(\.name),
                                     referenceLoss: search.loss(of: workspace.session.reference, in: workspace.session))
        }
        let missing = table.groups.filter { table.increases[$0] == nil }.count
        guard missing > 0 else {
            onEvent(.sensitivitiesReused(cache: store.url))
            return table
        }
        onEvent(.sensitivitiesStarted(missingGroups: missing, groups: table.groups.count, candidates: problem.candidates.count,
                                      cache: store.url))
        let sweep = SensitivitySweep(grouping: prepared.grouping, candidates: problem.candidates,
                                     allowed: problem.groups.indices.map { problem.effectiveAllowed($0) },
                                     search: search, baseline: request.baseline)
        let total = table.groups.count
        onEvent(.progress(.sensitivities, done: 0, total: total))
        try sweep.run(&table, session: &workspace.session, probe: &workspace.probe, store: store.url) { done, _ in
            onEvent(.progress(.sensitivities, done: done, total: total))
        }
        return table
    }
}

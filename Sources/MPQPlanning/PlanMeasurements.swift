import Foundation
import MPQKernels
import MPQSensitivity

/// Every plan measured for one plan run, in memory and in the store beside the sensitivity table, so that each
/// distinct plan is measured once: in this run (budget values share proposals) and in later runs on the same inputs.
public struct PlanMeasurements {
    /// What measures the plans not measured before.
    public var measurer: any PlanMeasurer
    private var known: [[Int]: MeasuredPlan] = [:]
    /// Plans whose calibration loss is known but whose validation run was skipped.
    private var unvalidated: Set<[Int]> = []
    private var store: MeasuredPlanStore
    private let storeURL: URL?
    /// How often a batch of measurements writes the plans measured so far to the store, so that an interrupted
    /// run (Ctrl-C, a killed job) loses at most this much measuring; the store is also written when a batch ends
    /// or a measurement fails.
    public var checkpointInterval: TimeInterval = 1

    /// Measurements through `measurer`, reusing and extending the store at `storeURL` (nil: in memory only).
    public init(measurer: any PlanMeasurer, storeURL: URL?, key: String) {
        self.measurer = measurer
        self.storeURL = storeURL
        store = storeURL.map { MeasuredPlanStore.load(from: $0, key: key) } ?? MeasuredPlanStore(key: key)
    }

    /// Where plans measured on the same inputs are stored, and their key: the sensitivity table's key, the
    /// validation data and the measurer's tag.
    public static func store(in directory: URL, tableKey: String, validation: LabelledData?,
                             measurerTag: String = "") -> (url: URL, key: String) {
        var hash = ContentHash()
        hash.combine(tableKey)
        if !measurerTag.isEmpty { hash.combine("measurer=\(measurerTag)") }
        if let validation {
            for name in validation.inputs.keys.sorted() { hash.combine(validation.inputs[name]!.asFloats) }
            if let labels = validation.labels { hash.combine(labels) }
        }
        hash.combine("measured-plans;v1")
        return (directory.appendingPathComponent("measured-\(hash.hex).json"), hash.hex)
    }

    /// Whether `assignment` was measured (in this run or a stored one), with its validation run when `validated`.
    public func contains(_ assignment: [Int], validated: Bool = true) -> Bool {
        if validated && isUnvalidated(assignment) { return false }
        return known[assignment] != nil || store[assignment] != nil
    }

    private func isUnvalidated(_ assignment: [Int]) -> Bool {
        unvalidated.contains(assignment) || (known[assignment] == nil && store[assignment]?.unvalidated == true)
    }

    /// The loss and validation metrics of `assignment` if it was measured, without steps.
    public subscript(assignment: [Int]) -> MeasuredPlan? {
        known[assignment] ?? store[assignment].map { MeasuredPlan(loss: $0.loss, validation: $0.validation) }
    }

    /// Measures every plan of `assignments` not measured before, on `threads` workers when the measurer allows
    /// it (single-threaded kernels inside), and stores them in the order given; `progress` gets the count done and
    /// the count to measure (first with none done; not at all when every plan was measured).
    ///
    /// Without `validating`, a measurer that validates separately measures calibration losses only; `measure`
    /// (or `measureAll` validating) adds the validation run when a plan is reported.
    public mutating func measureAll(_ assignments: [[Int]], validating: Bool = true, threads: Int = KernelThreads.count,
                                    progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws {
        var seen = Set<[Int]>()
        let pending = assignments.filter { !contains($0, validated: validating) && seen.insert($0).inserted }
        let lossOnly = !validating && measurer.validatesSeparately
        guard !pending.isEmpty else { return }
        progress(0, pending.count)
        // A plan whose loss is known needs only its validation run (measuring it again gives the same loss).
        let knownLosses = pending.map { measurer.validatesSeparately ? self[$0]?.loss : nil }
        func measured(_ i: Int, by measurer: inout any PlanMeasurer) throws -> MeasuredPlan {
            if lossOnly { return try measurer.loss(pending[i]) }
            guard let loss = knownLosses[i] else { return try measurer.measure(pending[i]) }
            return MeasuredPlan(loss: loss, validation: try measurer.validation(pending[i]))
        }
        let workers = measurer.measuresConcurrently ? min(max(1, threads), pending.count) : 1
        // In lexicographic order a plan shares its first groups with the one before, and a measurer that re-runs
        // from its last evaluation (`ComposedMeasurer`) recomputes only what follows the first group that differs.
        // Workers take runs of consecutive plans; results are stored in the order given.
        let order = pending.indices.sorted { pending[$0].lexicographicallyPrecedes(pending[$1]) }
        defer { measurer.forgetActivations() }
        let runLength = workers > 1 ? max(1, order.count / (workers * 4)) : order.count
        let runs = stride(from: 0, to: order.count, by: runLength).map { $0..<min($0 + runLength, order.count) }
        let done = Locked(Checkpoints(store: store, url: storeURL, interval: checkpointInterval, count: pending.count))
        func measureRun(_ r: Int, by measurer: inout any PlanMeasurer) throws {
            for i in runs[r].map({ order[$0] }) {
                let m = try measured(i, by: &measurer)
                let count = try done.withValue { try $0.add(m, at: i, assignment: pending[i], validated: !lossOnly) }
                progress(count, pending.count)
            }
        }
        do {
            if workers > 1 {
                try ParallelWork.forEach(runs.count, workers: workers, state: measurer) { try measureRun($1, by: &$0) }
            } else {
                try measureRun(0, by: &measurer)   // this measurer itself: it may keep what the next batch reuses
            }
        } catch {
            // What was measured before the failure stays measured.
            try? done.withValue { try $0.save() }
            throw error
        }
        for (a, m) in zip(pending, done.withValue { $0.plans }) { record(a, m!, validated: !lossOnly) }
        if let storeURL { try store.save(to: storeURL) }
    }

    /// Plans measured so far in one batch, and the store written with them every `interval` seconds.
    private struct Checkpoints {
        var store: MeasuredPlanStore
        let url: URL?
        let interval: TimeInterval
        var plans: [MeasuredPlan?]
        var done = 0
        var lastSave = Date()

        init(store: MeasuredPlanStore, url: URL?, interval: TimeInterval, count: Int) {
            (self.store, self.url, self.interval) = (store, url, interval)
            plans = Array(repeating: nil, count: count)
        }

        /// Keeps plan `i`'s measurement (without its steps, which may hold a whole set of activations), writes the
        /// store when it is due, and returns how many plans are done.
        mutating func add(_ m: MeasuredPlan, at i: Int, assignment: [Int], validated: Bool) throws -> Int {
            var m = m
            m.steps = nil
            plans[i] = m
            done += 1
            store[assignment] = MeasuredPlanStore.Entry(m, validated: validated)
            if Date().timeIntervalSince(lastSave) >= interval { try save() }
            return done
        }

        mutating func save() throws {
            guard let url else { return }
            try store.save(to: url)
            lastSave = Date()
        }
    }

    /// Keeps a new measurement in memory and in the store (saved by the caller).
    private mutating func record(_ assignment: [Int], _ m: MeasuredPlan, validated: Bool) {
        var m = m
        m.steps = nil
        known[assignment] = m
        if validated { unvalidated.remove(assignment) } else { unvalidated.insert(assignment) }
        store[assignment] = MeasuredPlanStore.Entry(m, validated: validated)
    }

    /// The measurement of `assignment`: known ones without steps, new ones (stored at once) with the measurer's.
    public mutating func measure(_ assignment: [Int]) throws -> MeasuredPlan {
        if contains(assignment), let m = self[assignment] {
            known[assignment] = m
            return m
        }
        let m = try measurer.measure(assignment)
        record(assignment, m, validated: true)
        if let storeURL { try store.save(to: storeURL) }
        return m
    }
}

import Foundation
import MPQExecutor
import MPQGraph
import MPQKernels

/// Evaluates a model on calibration batches under quantization hooks, reusing cached activations.
///
/// The FP32 activations of every batch are computed once. An evaluation names the tensors whose
/// hooks differ from a base state (FP32, or an earlier evaluation); only the nodes downstream of
/// those tensors run again. That is what makes the LAPQ p sweep, Powell's coordinate line searches
/// and the per-group sensitivity sweep affordable.
public struct CalibrationSession: Sendable {
    /// A snapshot of every batch's activations under some hooks, to re-run from.
    public struct State: Sendable {
        public let hooks: TensorHooks
        /// The key of each hooked tensor's current setting, to find what changed.
        public let settings: [String: QuantizerSetting]
        let caches: [ActivationCache]
        /// Graph outputs per batch under these hooks (out of date when the state is not complete).
        public let outputs: [[String: Tensor]]
        /// The data index of each joined output row, when batches hold the samples in another order.
        let sampleOrder: SampleOrder?

        /// Whether every activation, and so the outputs, is up to date (see `evaluate(_:from:through:)`).
        public var isComplete: Bool { caches.allSatisfy(\.isComplete) }
    }

    public let graph: Graph
    /// Calibration inputs split into batches along axis 0 (padded when the model fixes its batch size).
    public let batches: [[String: Tensor]]
    /// The real samples at the start of each batch (the rest is padding, left out of every output and statistic).
    public let validCounts: [Int]
    /// How the samples were cut into batches.
    public let layout: BatchLayout
    /// The padded sequences cut from each batch (nil: batches hold the samples whole and in data order).
    public let padding: SequencePadding?
    /// The inputs as given, when batches hold them reordered and trimmed (`probeInputs` takes their first samples).
    let sourceInputs: [String: Tensor]?
    let plans: [ExecutionPlan]
    /// The FP32 state: no hooks.
    public let reference: State
    /// Cached-evaluation counters, for benchmarks and reports.
    public private(set) var statistics = Statistics()
    /// Re-run only what changed (true), or run every batch in full with all hooks (false; for benchmarks).
    public var reusesActivations = true

    public struct Statistics: Sendable {
        public var evaluations = 0
        public var nodesRun = 0
        public var nodesTotal = 0
    }

    /// The default bytes of cached activations per session: 1/24 of the machine's memory, as a sweep holds about
    /// eight sessions' worth at once (the calibration and probe sessions, and each worker's current and best states).
    public static var defaultActivationBudget: Int {
        Int(clamping: min(ProcessInfo.processInfo.physicalMemory, containerMemoryLimit ?? .max) / 24)
    }

    /// The cgroup (v2, else v1) memory limit of this process's container, when one is set: a Slurm task or a
    /// Kubernetes pod may have far less than the machine.
    static var containerMemoryLimit: UInt64? {
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let limit = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
            return limit
        }
        return nil
    }

    /// Runs the FP32 model on every batch and keeps its activations.
    ///
    /// Batches hold `batchSize` samples, or the model's own batch size when it fixes one (see `BatchLayout`), or fewer:
    /// a batch a model need not take whole is cut as `SubBatchPlan` cuts one (halves, or smaller where a sample's
    /// activations are large), so batches run side by side on the cores and their activations stay in cache while
    /// they are quantized. The cut depends on the model and the samples only, never on the thread count.
    /// When all activations would take more than `activationBudget` bytes, only every few nodes' outputs are kept
    /// (`ExecutionPlan.checkpointing(every:)`) and re-runs recompute the rest: the same results in bounded memory.
    ///
    /// With `trimsPadding`, right-padded token sequences (`SequencePadding`) are batched longest first and each batch
    /// is cut to its longest sample, when the model's outputs on the shortest batch match its outputs on the whole
    /// padded batch (within 1e-4; a model that fails on shorter sequences runs them padded): a sentence encoder then
    /// computes its real tokens only. Outputs come back in data order; activation statistics cover the real tokens
    /// and what padding is left in each batch.
    public init(graph: Graph, inputs: [String: Tensor], batchSize: Int,
                activationBudget: Int = CalibrationSession.defaultActivationBudget, trimsPadding: Bool = true) throws {
        let layout = try Self.layout(graph: graph, inputs: inputs, requested: batchSize)
        if trimsPadding, let padding = SequencePadding(graph: graph, inputs: inputs) {
            let order = padding.longestFirst
            let lengths = layout.batches(sampleCount: order.count).map { padding.length(of: $0.samples.map { order[$0] }) }
            // A model that cannot run shorter sequences (a length baked into a Reshape) runs them padded.
            if lengths.contains(where: { $0 < padding.fullLength }),
               let trimmed = try? Self(graph: graph, inputs: inputs, layout: layout, padding: padding,
                                       activationBudget: activationBudget),
               (try? trimmed.ignoresPadding()) == true {
                self = trimmed
                return
            }
        }
        try self.init(graph: graph, inputs: inputs, layout: layout, padding: nil, activationBudget: activationBudget)
    }

    private init(graph: Graph, inputs: [String: Tensor], layout: BatchLayout, padding: SequencePadding?,
                 activationBudget: Int) throws {
        self.graph = graph
        guard let total = inputs.values.first?.shape.first, total > 0 else {
            throw GraphError.missingGraphInput(graph.inputs.first?.name ?? "?", available: graph.inputs.map(\.name))
        }
        self.layout = layout
        self.padding = padding
        try layout.checkPadding(sampleCount: total)
        let order = padding.map { SampleOrder($0.longestFirst) }
        let ordered = order.map { order in inputs.mapValues { $0.rows(order.indices) } } ?? inputs
        sourceInputs = padding == nil ? nil : inputs
        var batches: [[String: Tensor]] = []
        var validCounts: [Int] = []
        var plans: [ExecutionPlan] = []
        var planByShape: [[String: [Int]]: ExecutionPlan] = [:]
        for spec in layout.batches(sampleCount: total) {
            var batch = BatchLayout.inputs(of: spec, from: ordered)
            if let padding, let order {
                batch = padding.trimmed(batch, to: padding.length(of: spec.samples.map { order.indices[$0] }))
            }
            let shapes = batch.mapValues(\.shape)
            if planByShape[shapes] == nil { planByShape[shapes] = try ExecutionPlan(graph: graph, inputShapes: shapes) }
            batches.append(batch)
            validCounts.append(spec.validCount)
            plans.append(planByShape[shapes]!)
        }
        let stride = plans[0].checkpointStride(batches: batches.count, budget: activationBudget)
        if stride > 1 {
            for shapes in planByShape.keys { planByShape[shapes] = planByShape[shapes]!.checkpointing(every: stride) }
            plans = batches.map { planByShape[$0.mapValues(\.shape)]! }
        }
        self.batches = batches
        self.validCounts = validCounts
        self.plans = plans
        var caches: [ActivationCache] = []
        var outputs: [[String: Tensor]] = []
        for (i, (plan, batch)) in zip(plans, batches).enumerated() {
            let result = try plan.run(batch, retain: .all)
            caches.append(result.cache!)
            outputs.append(Self.valid(result.outputs, batch: i, validCounts: validCounts, batches: batches))
        }
        reference = State(hooks: .none, settings: [:], caches: caches, outputs: outputs, sampleOrder: order)
    }

    /// Whether the last (shortest) batch's FP32 outputs, trimmed, match those of its samples padded as given (its
    /// first few samples, unless the model fixes its batch: samples of a batch do not depend on each other).
    private func ignoresPadding() throws -> Bool {
        guard let padding, let sourceInputs, let last = layout.batches(sampleCount: padding.lengths.count).last,
              let order = reference.sampleOrder else { return true }
        let count = layout.isFixed ? last.validCount : min(last.validCount, Self.paddingCheckSamples)
        let size = layout.isFixed ? last.size : count
        let whole = sourceInputs.mapValues { $0.rows(last.samples.prefix(count).map { order.indices[$0] }).padded(axis0: size) }
        let plan = try ExecutionPlan(graph: graph, inputShapes: whole.mapValues(\.shape))
        return try plan.run(whole).outputs.allSatisfy { name, padded in
            let value = padded.validRows(count, of: size)
            guard let trimmed = reference.outputs.last?[name]?.validRows(count, of: last.validCount),
                  trimmed.shape == value.shape else { return false }
            let (a, b) = (trimmed.asFloats, value.asFloats)
            let scale = max(1, b.lazy.map(abs).max() ?? 0)
            return zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 * scale }
        }
    }

    /// Samples of the shortest batch run padded to check that trimming changes no output.
    static let paddingCheckSamples = 4

    /// How `init` cuts the samples (see there).
    static func layout(graph: Graph, inputs: [String: Tensor], requested: Int) throws -> BatchLayout {
        let layout = BatchLayout(graph: graph, requested: requested)
        let total = inputs.values.first?.shape.first ?? 0
        let size = min(requested, total)
        guard !layout.isFixed, size >= 2 else { return layout }
        let plan = try ExecutionPlan(graph: graph, inputShapes: inputs.mapValues { [size] + $0.shape.dropFirst() })
        return BatchLayout(graph: graph, requested: SubBatchPlan.defaultSamples(plan, batch: size))
    }

    /// The token positions the batches run and the data holds, when padding is trimmed (`padding`).
    public var trimmedPositions: (run: Int, total: Int)? {
        guard let padding else { return nil }
        let run = batches.reduce(0) { $0 + ($1[padding.maskName]?.count ?? 0) }
        return (run, padding.lengths.count * padding.fullLength)
    }

    /// The plan used for full batches (shapes, layer statistics).
    public var plan: ExecutionPlan { plans[0] }

    /// The rows of batch `i`'s padded run.
    private func size(of i: Int) -> Int { batches[i].values.first?.shape.first ?? validCounts[i] }

    /// Batch `batch`'s graph outputs without its padding rows.
    private static func valid(_ outputs: [String: Tensor], batch: Int, validCounts: [Int],
                              batches: [[String: Tensor]]) -> [String: Tensor] {
        let size = batches[batch].values.first?.shape.first ?? validCounts[batch]
        guard validCounts[batch] < size else { return outputs }
        return outputs.mapValues { $0.validRows(validCounts[batch], of: size) }
    }

    /// Graph outputs of all batches joined along axis 0, in data order.
    public static func joinedOutputs(_ state: State, name: String) -> Tensor {
        joined(state.outputs, name: name, order: state.sampleOrder)
    }

    /// Per-batch graph outputs (of `outputs(_:)`) joined along axis 0, in data order.
    public func joinedOutputs(_ outputs: [[String: Tensor]], name: String) -> Tensor {
        Self.joined(outputs, name: name, order: reference.sampleOrder)
    }

    private static func joined(_ outputs: [[String: Tensor]], name: String, order: SampleOrder?) -> Tensor {
        let joined = Tensor.concatenate(axis0: outputs.compactMap { $0[name] })
        return order?.dataOrder(joined) ?? joined
    }

    /// Evaluates `settings` (one hook per quantized tensor), re-running from `base` only what differs.
    ///
    /// Settings whose key equals the base's are taken from the cache; tensors hooked in the base but
    /// absent from `settings` go back to FP32. With `through`, only what those values need is run (the
    /// rest is left stale, to be run by a later evaluation from this state; `isComplete` is false).
    public mutating func evaluate(_ settings: [String: QuantizerSetting], from base: State? = nil,
                                  through targets: Set<String>? = nil) throws -> State {
        let base = base ?? reference
        var changed = Set<String>()
        for (name, setting) in settings where base.settings[name] != setting { changed.insert(name) }
        for name in base.settings.keys where settings[name] == nil { changed.insert(name) }
        let hooks = TensorHooks(settings)
        let downstream = plans[0].downstreamNodes(of: changed).count
        let (plans, batches, validCounts, reuses) = (self.plans, self.batches, self.validCounts, reusesActivations)
        let results = Locked([(cache: ActivationCache, outputs: [String: Tensor])?](repeating: nil, count: plans.count))
        // Batches are independent: with spare kernel threads they run side by side, one thread each (the same
        // values as in turn, since a batch's values do not depend on the thread count).
        try ParallelWork.forEach(plans.count, workers: KernelThreads.count, state: ()) { _, i in
            if changed.isEmpty && base.caches[i].isComplete {
                results.withValue { $0[i] = (base.caches[i], base.outputs[i]) }
                return
            }
            let result = reuses
                ? try plans[i].rerun(from: base.caches[i], changed: changed, hooks: hooks, retain: .all, through: targets)
                : try plans[i].run(batches[i], hooks: hooks, retain: .all)
            let outputs = Self.valid(result.outputs, batch: i, validCounts: validCounts, batches: batches)
            results.withValue { $0[i] = (result.cache!, outputs) }
        }
        let done = results.withValue { $0.map { $0! } }
        let (caches, outputs) = (done.map(\.cache), done.map(\.outputs))
        statistics.evaluations += 1
        statistics.nodesRun += (reusesActivations ? downstream : graph.nodes.count) * plans.count
        statistics.nodesTotal += graph.nodes.count * plans.count
        return State(hooks: hooks, settings: settings, caches: caches, outputs: outputs, sampleOrder: reference.sampleOrder)
    }

    /// Graph outputs of every batch (in batch order; `joinedOutputs(_:name:)` joins them) under `settings`, without
    /// keeping activations: the cheap
    /// evaluation of a whole plan that nothing re-runs from (intermediates are freed as they die).
    /// `evaluate`'s outputs up to float rounding: a forward pass keeps activations channel-blocked between convolutions
    /// where every quantizer on them is per-tensor (`ExecutionPlan.run`), so a 1×1 or depthwise convolution may run in
    /// oneDNN instead of the hand-written kernel; batches run side by side, one kernel thread each.
    public func outputs(_ settings: [String: QuantizerSetting]) throws -> [[String: Tensor]] {
        let hooks = TensorHooks(settings)
        let (plans, batches, validCounts) = (self.plans, self.batches, self.validCounts)
        let results = Locked([[String: Tensor]?](repeating: nil, count: plans.count))
        try ParallelWork.forEach(plans.count, workers: KernelThreads.count, state: ()) { _, i in
            let outputs = Self.valid(try plans[i].run(batches[i], hooks: hooks).outputs, batch: i, validCounts: validCounts,
                                     batches: batches)
            results.withValue { $0[i] = outputs }
        }
        return results.withValue { $0.map { $0! } }
    }

    /// The samples activation statistics are taken from: the first `count` calibration samples
    /// (LAPQ takes its activation clipping values from one calibration batch), from as many batches as
    /// they need: small batches (which keep a large CNN's tensors in cache) do not shrink the probe.
    public static func probeInputs(_ session: CalibrationSession, count: Int = 64) -> [String: Tensor] {
        // A model fixing a batch above `count` gets one whole batch: padding the probe would only compute copies.
        let count = session.layout.isFixed ? max(count, session.layout.batchSize) : count
        let wanted = min(count, session.validCounts.reduce(0, +))
        if let source = session.sourceInputs { return source.mapValues { $0.slice(axis0: 0..<wanted) } }
        var parts: [[String: Tensor]] = []
        var taken = 0
        for (batch, valid) in zip(session.batches, session.validCounts) where taken < wanted {
            let rows = min(valid, wanted - taken)
            parts.append(batch.mapValues { $0.slice(axis0: 0..<rows) })
            taken += rows
        }
        return parts[0].keys.reduce(into: [:]) { joined, name in
            joined[name] = Tensor.concatenate(axis0: parts.compactMap { $0[name] })
        }
    }

    /// A tensor's FP32 value across all batches (joined along axis 0), or nil where batches trimmed to different
    /// lengths (`padding`) give it different shapes.
    public func referenceValue(_ name: String) -> Tensor? {
        let parts = reference.caches.indices.compactMap { cachedValue(name, in: reference, batch: $0, unhooked: false) }
        guard parts.count == reference.caches.count else { return nil }
        if graph.initializers[name] != nil { return parts.first }
        let rows = parts.enumerated().map { $1.validRows(validCounts[$0], of: size(of: $0)) }
        return Set(rows.map { $0.shape.dropFirst() }).count == 1 ? Tensor.concatenate(axis0: rows) : nil
    }

    /// A tensor's value before its own hook (the input a quantizer sees): in batch `batch` of `state`, or
    /// with nil, every batch joined (a probe's samples). Padding rows are left out. Batches trimmed to different
    /// lengths (`padding`) give a value of different shapes: then their elements are joined flat, as the
    /// per-tensor statistics that read them need.
    public func unhookedValue(_ name: String, in state: State, batch: Int? = nil) -> Tensor? {
        let indices = batch.map { [$0] } ?? Array(state.caches.indices)
        var parts: [Tensor] = []
        for i in indices {
            guard let value = cachedValue(name, in: state, batch: i, unhooked: true) else { return nil }
            parts.append(graph.initializers[name] != nil ? value : value.validRows(validCounts[i], of: size(of: i)))
        }
        if graph.initializers[name] != nil { return parts.first }
        guard Set(parts.map { $0.shape.dropFirst() }).count > 1 else { return Tensor.concatenate(axis0: parts) }
        return Tensor(shape: [parts.reduce(0) { $0 + $1.count }], floats: parts.flatMap(\.asFloats))
    }

    /// A value of one batch's cache, recomputed from the kept ones when checkpointing dropped it.
    ///
    /// A hooked activation's raw form is not kept (`ExecutionPlan.rerun`): its producer runs again without the hook.
    private func cachedValue(_ name: String, in state: State, batch: Int, unhooked: Bool) -> Tensor? {
        let read = { (cache: ActivationCache) in unhooked ? cache.unhookedValue(named: name) : cache.value(named: name) }
        if let value = read(state.caches[batch]) { return value }
        if unhooked, state.hooks[name] != nil, graph.initializers[name] == nil {
            var hooks = state.hooks
            hooks[name] = nil
            return try? plans[batch].rerun(from: state.caches[batch], changed: [name], hooks: hooks, retain: .all,
                                           through: [name]).cache?.unhookedValue(named: name)
        }
        guard plans[batch].isCheckpointed, plans[batch].type(of: name) != nil,
              let cache = try? plans[batch].rerun(from: state.caches[batch], changed: [], hooks: state.hooks,
                                                  retain: .all, materializing: [name]).cache else { return nil }
        return read(cache)
    }
}

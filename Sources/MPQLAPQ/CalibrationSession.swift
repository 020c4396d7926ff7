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
    public init(graph: Graph, inputs: [String: Tensor], batchSize: Int,
                activationBudget: Int = CalibrationSession.defaultActivationBudget) throws {
        self.graph = graph
        guard let total = inputs.values.first?.shape.first, total > 0 else {
            throw GraphError.missingGraphInput(graph.inputs.first?.name ?? "?", available: graph.inputs.map(\.name))
        }
        layout = try Self.layout(graph: graph, inputs: inputs, requested: batchSize)
        try layout.checkPadding(sampleCount: total)
        var batches: [[String: Tensor]] = []
        var validCounts: [Int] = []
        var plans: [ExecutionPlan] = []
        var planBySize: [Int: ExecutionPlan] = [:]
        for spec in layout.batches(sampleCount: total) {
            let batch = BatchLayout.inputs(of: spec, from: inputs)
            if planBySize[spec.size] == nil {
                planBySize[spec.size] = try ExecutionPlan(graph: graph, inputShapes: batch.mapValues(\.shape))
            }
            batches.append(batch)
            validCounts.append(spec.validCount)
            plans.append(planBySize[spec.size]!)
        }
        let stride = plans[0].checkpointStride(batches: batches.count, budget: activationBudget)
        if stride > 1 {
            for size in planBySize.keys { planBySize[size] = planBySize[size]!.checkpointing(every: stride) }
            plans = batches.map { planBySize[$0.values.first!.shape[0]]! }
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
        reference = State(hooks: .none, settings: [:], caches: caches, outputs: outputs)
    }

    /// How `init` cuts the samples (see there).
    static func layout(graph: Graph, inputs: [String: Tensor], requested: Int) throws -> BatchLayout {
        let layout = BatchLayout(graph: graph, requested: requested)
        let total = inputs.values.first?.shape.first ?? 0
        let size = min(requested, total)
        guard !layout.isFixed, size >= 2 else { return layout }
        let plan = try ExecutionPlan(graph: graph, inputShapes: inputs.mapValues { [size] + $0.shape.dropFirst() })
        return BatchLayout(graph: graph, requested: SubBatchPlan.defaultSamples(plan, batch: size))
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

    /// Graph outputs of all batches joined along axis 0.
    public static func joinedOutputs(_ state: State, name: String) -> Tensor {
        Tensor.concatenate(axis0: state.outputs.compactMap { $0[name] })
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
        return State(hooks: hooks, settings: settings, caches: caches, outputs: outputs)
    }

    /// Graph outputs of every batch under `settings`, without keeping activations: the cheap
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

    /// A tensor's FP32 value across all batches (joined along axis 0).
    public func referenceValue(_ name: String) -> Tensor? {
        let parts = reference.caches.indices.compactMap { cachedValue(name, in: reference, batch: $0, unhooked: false) }
        guard parts.count == reference.caches.count else { return nil }
        if graph.initializers[name] != nil { return parts.first }
        return Tensor.concatenate(axis0: parts.enumerated().map { $1.validRows(validCounts[$0], of: size(of: $0)) })
    }

    /// A tensor's value before its own hook (the input a quantizer sees): in batch `batch` of `state`, or
    /// with nil, every batch joined (a probe's samples). Padding rows are left out.
    public func unhookedValue(_ name: String, in state: State, batch: Int? = nil) -> Tensor? {
        let indices = batch.map { [$0] } ?? Array(state.caches.indices)
        var parts: [Tensor] = []
        for i in indices {
            guard let value = cachedValue(name, in: state, batch: i, unhooked: true) else { return nil }
            parts.append(graph.initializers[name] != nil ? value : value.validRows(validCounts[i], of: size(of: i)))
        }
        if graph.initializers[name] != nil { return parts.first }
        return Tensor.concatenate(axis0: parts)
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

import MPQGraph
import MPQKernels

/// A forward pass over a batch cut into sub-batches of consecutive samples, run side by side on the kernel threads,
/// each with single-threaded kernels.
///
/// Whole sub-batches scale across cores better than one batch whose kernels are split op by op (every op a
/// synchronisation, and small ops do not split at all). The cut depends on the model and the batch only, never on the
/// thread count, so the outputs are identical for any thread count (they differ from a whole-batch run by float
/// rounding). A model that fixes its batch axis, or whose outputs do not follow the batch, runs whole. Hooks must act
/// on each sample alone (fake quantization with set parameters does).
public struct SubBatchPlan: Sendable {
    /// The plan for the whole batch.
    public let whole: ExecutionPlan
    /// The sub-batches' samples in order, each with the plan compiled for its size (empty: the batch runs whole).
    private let parts: [Part]

    private struct Part: Sendable {
        var samples: Range<Int>
        var plan: ExecutionPlan
    }

    /// Compiles `graph` for `inputShapes` and, where the batch can be cut, for sub-batches of at most `maxSamples`
    /// samples (nil: `forwardSamples`); always two or more when there are two samples.
    public init(graph: Graph, inputShapes: [String: [Int]], maxSamples: Int? = nil) throws {
        whole = try ExecutionPlan(graph: graph, inputShapes: inputShapes)
        let batch = inputShapes.values.first?.first ?? 0
        guard batch >= 2, !BatchLayout(graph: graph, requested: batch).isFixed,
              inputShapes.values.allSatisfy({ $0.first == batch }) else {
            parts = []
            return
        }
        let limit = max(1, maxSamples ?? Self.forwardSamples(whole, batch: batch))
        let count = max(2, (batch + limit - 1) / limit)
        var plans: [Int: ExecutionPlan] = [:]
        var parts: [Part] = []
        for k in 0..<min(count, batch) {
            let samples = (k * batch / count)..<((k + 1) * batch / count)
            if plans[samples.count] == nil {
                guard let plan = try? ExecutionPlan(graph: graph, inputShapes: inputShapes.mapValues { [samples.count] + $0.dropFirst() }),
                      Self.outputsFollowBatch(plan, whole: whole, batch: batch) else {
                    self.parts = []
                    return
                }
                plans[samples.count] = plan
            }
            parts.append(Part(samples: samples, plan: plans[samples.count]!))
        }
        self.parts = parts
    }

    /// How many sub-batches a run makes (1: the batch runs whole).
    public var subBatchCount: Int { max(1, parts.count) }

    /// Runs every sub-batch (on up to `KernelThreads.count` threads) and joins each graph output along axis 0.
    public func run(_ inputs: [String: Tensor], hooks: TensorHooks = .none) throws -> [String: Tensor] {
        guard parts.count > 1 else { return try whole.run(inputs, hooks: hooks).outputs }
        let results = Locked([[String: Tensor]?](repeating: nil, count: parts.count))
        try ParallelWork.forEach(parts.count, workers: KernelThreads.count, state: ()) { _, k in
            let part = parts[k]
            let outputs = try part.plan.run(inputs.mapValues { $0.slice(axis0: part.samples) }, hooks: hooks).outputs
            results.withValue { $0[k] = outputs }
        }
        let pieces = results.withValue { $0.map { $0! } }
        var joined: [String: Tensor] = [:]
        for output in whole.graph.outputs {
            joined[output.name] = Tensor.concatenate(axis0: pieces.map { $0[output.name]! })
        }
        return joined
    }

    /// Bytes the largest activation of a sub-batch may take (`defaultSamples`).
    public static let activationBudget = 24 << 20

    /// The samples of a default sub-batch: the batch's halves, or fewer samples where a sub-batch's largest
    /// activation (weights and folded constants aside) would exceed `activationBudget`.
    ///
    /// Measured side by side (docs/benchmarks.md): at two threads halves gained on every model but ResNet-18
    /// (mobilenet-digits 22.4k → 26.1k samples/s, MiniLM +13 %; ResNet-18 even there and ~6 % slower on one thread),
    /// and the budget cuts EfficientNet-Lite's batch of 16 into four (peak resident set at two threads 226 MB whole,
    /// 235–248 MB as halves, 160 MB as fourths, at the halves' speed). Smaller sub-batches gained on one thread only
    /// where a sample's activations are small (mobilenet-digits at 32: +14 %) and lost where they are tiny (the 8×8
    /// digits CNN at 32: −20 %) or large (ResNet-18 at 1: −11 %).
    public static func defaultSamples(_ plan: ExecutionPlan, batch: Int) -> Int {
        defaultSamples(batch: batch, perSample: largestActivationPerSample(plan, batch: batch))
    }

    private static func defaultSamples(batch: Int, perSample: Int) -> Int {
        min((batch + 1) / 2, max(1, activationBudget / perSample))
    }

    /// Bytes per sample of a plan's largest activation that is no constant (at least 1).
    static func largestActivationPerSample(_ plan: ExecutionPlan, batch: Int) -> Int {
        let largest = plan.valueTypes.indices.filter { plan.constants[$0] == nil }
            .map { Tensor.count(of: plan.valueTypes[$0].shape) * 4 }.max() ?? 0
        return max(1, largest / max(1, batch))
    }

    /// A sample whose largest activation takes at least this many bytes (an ImageNet-sized CNN's) is "large".
    public static let largeSampleBytes = 2 << 20
    /// Samples a forward pass puts in one sub-batch of large samples at most.
    public static let largeSubBatchSamples = 2

    /// Bytes of a small-sample sub-batch's largest activation in a forward pass (about an L2 cache)…
    public static let cachedSubBatchBytes = 2 << 20
    /// …but never fewer samples than this (below it each op's fixed cost shows: the 8×8 digits CNN at 32 lost 20 %).
    public static let minimumCachedSamples = 32

    /// The samples of a forward pass's default sub-batch: `defaultSamples`; for large samples at most
    /// `largeSubBatchSamples`; for small ones as many as keep the largest activation within `cachedSubBatchBytes` (an even count
    /// of sub-batches, at least `minimumCachedSamples` samples each).
    ///
    /// Large: a sub-batch of two ImageNet-sized samples already overflows L2 many times, so smaller sub-batches cost
    /// no speed, and two threads hold two sub-batches' activations at once. Measured side by side (docs/benchmarks.md),
    /// ResNet-18 b8 as four sub-batches of two instead of two of four: peak resident set 157 → 141 MB on one thread and
    /// 185–216 → 156–166 MB on two, throughput within the machine's noise on both. EfficientNet-Lite1 b16 already ran
    /// as four. Small: mobilenet-digits b256 as eight sub-batches of 32 instead of two of 128 ran faster on one and two
    /// threads and holds less. EfficientNet-Lite1 b16 with channel-blocked activations as eight sub-batches of two
    /// instead of four of four: 212 vs 211 ms per batch on one thread, peak resident set 94 instead of 110 MB (its
    /// 1×1 and depthwise convolutions keep oneDNN's reordered weights too). (Calibration sessions keep
    /// `defaultSamples`: their batches decide the plan's sums.)
    public static func forwardSamples(_ plan: ExecutionPlan, batch: Int) -> Int {
        let perSample = largestActivationPerSample(plan, batch: batch)
        let samples = defaultSamples(batch: batch, perSample: perSample)
        if perSample >= largeSampleBytes {
            return min(samples, largeSubBatchSamples)
        }
        let fitting = cachedSubBatchBytes / perSample
        guard fitting >= minimumCachedSamples, fitting < samples else { return samples }
        var count = (batch + fitting - 1) / fitting
        count += count % 2
        return max(minimumCachedSamples, (batch + count - 1) / count)
    }

    /// Whether each graph output of `plan` has its sub-batch along axis 0 and the whole batch's shape otherwise.
    private static func outputsFollowBatch(_ plan: ExecutionPlan, whole: ExecutionPlan, batch: Int) -> Bool {
        let size = plan.graph.inputs.first.flatMap { plan.type(of: $0.name)?.shape.first } ?? 0
        return whole.graph.outputs.allSatisfy { output in
            guard let full = whole.type(of: output.name)?.shape, let part = plan.type(of: output.name)?.shape else { return false }
            return full.first == batch && part.first == size && full.dropFirst() == part.dropFirst()
        }
    }
}

import MPQGraph

/// Runs a graph over a whole dataset in batches along axis 0, compiling one plan per batch size; each batch runs as
/// sub-batches side by side (`SubBatchPlan`).
///
/// A model that fixes its batch axis runs batches of that size, the last one padded; its outputs keep
/// only the real samples (see `BatchLayout`).
public struct BatchRunner: Sendable {
    public let graph: Graph
    public let batchSize: Int
    /// How the samples are cut into forward passes.
    public let layout: BatchLayout
    private let plans: [Int: SubBatchPlan]

    /// Compiles plans for `batchSize` (the model's own batch size when it fixes one) and for the last
    /// partial batch of `sampleCount` samples.
    ///
    /// `sampleShapes` gives each graph input's shape without the batch axis.
    public init(graph: Graph, sampleShapes: [String: [Int]], sampleCount: Int, batchSize: Int) throws {
        precondition(batchSize > 0 && sampleCount > 0)
        self.graph = graph
        let requested = BatchLayout(graph: graph, requested: batchSize)
        layout = requested.isFixed ? requested : BatchLayout(graph: graph, requested: min(batchSize, sampleCount))
        try layout.checkPadding(sampleCount: sampleCount)
        self.batchSize = layout.batchSize
        var plans: [Int: SubBatchPlan] = [:]
        for size in Set(layout.batches(sampleCount: sampleCount).map(\.size)) {
            plans[size] = try SubBatchPlan(graph: graph, inputShapes: sampleShapes.mapValues { [size] + $0 })
        }
        self.plans = plans
    }

    /// The plan used for full batches.
    public var plan: ExecutionPlan { plans[batchSize]!.whole }

    /// Runs every batch and concatenates each graph output along axis 0 (real samples only).
    ///
    /// `progress` is called after each batch with (samples done, samples total).
    public func run(_ inputs: [String: Tensor], hooks: TensorHooks = .none,
                    progress: ((Int, Int) -> Void)? = nil) throws -> [String: Tensor] {
        guard let total = inputs.values.first?.shape.first else { return [:] }
        var pieces: [String: [Tensor]] = [:]
        for batch in layout.batches(sampleCount: total) {
            guard let plan = plans[batch.size] else {
                throw ExecutionError.inputShape(input: inputs.keys.sorted().joined(separator: ", "),
                                                expected: [batchSize], found: [total])
            }
            let outputs = try plan.run(BatchLayout.inputs(of: batch, from: inputs), hooks: hooks)
            for (name, value) in outputs {
                pieces[name, default: []].append(value.validRows(batch.validCount, of: batch.size))
            }
            progress?(batch.samples.upperBound, total)
        }
        return pieces.mapValues { Tensor.concatenate(axis0: $0) }
    }
}

extension Tensor {
    /// Rows `range` along the first axis.
    public func slice(axis0 range: Range<Int>) -> Tensor {
        let inner = shape.dropFirst().reduce(1, *)
        let elements = (range.lowerBound * inner)..<(range.upperBound * inner)
        let newShape = [range.count] + shape.dropFirst()
        switch storage {
        case .float(let v): return Tensor(shape: newShape, floats: Array(v[elements]))
        case .int64(let v): return Tensor(shape: newShape, int64s: Array(v[elements]))
        case .bool(let v): return Tensor(shape: newShape, bools: Array(v[elements]))
        }
    }

    /// Tensors joined along the first axis (all of one element type and inner shape).
    public static func concatenate(axis0 parts: [Tensor]) -> Tensor {
        guard let first = parts.first else { return Tensor(shape: [0], floats: []) }
        if parts.count == 1 { return first }
        let rows = parts.reduce(0) { $0 + ($1.shape.first ?? 1) }
        let newShape = [rows] + first.shape.dropFirst()
        switch first.storage {
        case .float: return Tensor(shape: newShape, floats: parts.flatMap { $0.floats ?? [] })
        case .int64: return Tensor(shape: newShape, int64s: parts.flatMap { $0.int64s ?? [] })
        case .bool: return Tensor(shape: newShape, bools: parts.flatMap { $0.bools ?? [] })
        }
    }
}

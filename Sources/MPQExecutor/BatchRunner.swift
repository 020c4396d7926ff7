import MPQGraph

/// Runs a graph over a whole dataset in batches along axis 0, compiling one plan per batch size.
public struct BatchRunner: Sendable {
    public let graph: Graph
    public let batchSize: Int
    private let plans: [Int: ExecutionPlan]

    /// Compiles plans for `batchSize` and for the last partial batch of `sampleCount` samples.
    ///
    /// `sampleShapes` gives each graph input's shape without the batch axis.
    public init(graph: Graph, sampleShapes: [String: [Int]], sampleCount: Int, batchSize: Int) throws {
        precondition(batchSize > 0 && sampleCount > 0)
        self.graph = graph
        self.batchSize = min(batchSize, sampleCount)
        var plans: [Int: ExecutionPlan] = [:]
        for size in Set([self.batchSize, sampleCount % self.batchSize]) where size > 0 {
            plans[size] = try ExecutionPlan(graph: graph, inputShapes: sampleShapes.mapValues { [size] + $0 })
        }
        self.plans = plans
    }

    /// The plan used for full batches.
    public var plan: ExecutionPlan { plans[batchSize]! }

    /// Runs every batch and concatenates each graph output along axis 0.
    ///
    /// `progress` is called after each batch with (samples done, samples total).
    public func run(_ inputs: [String: Tensor], hooks: TensorHooks = .none,
                    progress: ((Int, Int) -> Void)? = nil) throws -> [String: Tensor] {
        guard let total = inputs.values.first?.shape.first else { return [:] }
        var pieces: [String: [Tensor]] = [:]
        var start = 0
        while start < total {
            let size = min(batchSize, total - start)
            guard let plan = plans[size] else {
                throw ExecutionError.inputShape(input: inputs.keys.sorted().joined(separator: ", "),
                                                expected: [batchSize], found: [total])
            }
            let batch = inputs.mapValues { $0.slice(axis0: start..<start + size) }
            let result = try plan.run(batch, hooks: hooks)
            for (name, value) in result.outputs { pieces[name, default: []].append(value) }
            start += size
            progress?(start, total)
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

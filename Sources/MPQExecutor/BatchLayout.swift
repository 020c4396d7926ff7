import MPQGraph

/// How a dataset is cut into forward passes along axis 0, and which rows of each pass are real samples.
///
/// A model with a symbolic batch axis runs batches of the requested size, the last one shorter. A model
/// whose inputs fix the batch at B runs batches of exactly B: the last is padded with copies of its last
/// sample, and everything read from a batch keeps only its `validCount` rows.
public struct BatchLayout: Sendable, Equatable {
    /// Rows per forward pass.
    public let batchSize: Int
    /// Whether every pass must hold exactly `batchSize` rows (the model fixes its batch axis).
    public let isFixed: Bool

    /// One forward pass: the samples it holds and the rows it runs with.
    public struct Batch: Sendable, Equatable {
        /// The dataset rows of this pass.
        public let samples: Range<Int>
        /// Rows the pass runs with (more than `validCount` when padded).
        public let size: Int
        /// Real samples at the start of the pass.
        public var validCount: Int { samples.count }
        public var isPadded: Bool { size > validCount }
    }

    /// Batches of `requested` rows, or of the model's fixed batch size whatever was requested.
    public init(graph: Graph, requested: Int) {
        if let fixed = graph.fixedBatchSize {
            batchSize = fixed
            isFixed = true
        } else {
            batchSize = requested
            isFixed = false
        }
    }

    /// Padding rows allowed beyond the samples themselves: a fixed batch of 8 for 5 samples pads 3, but a model that
    /// fixes its batch at a million would compute a million rows (and gigabytes of activations) for 256 samples.
    public static let paddingAllowance = 1024

    /// Throws when padding `sampleCount` samples to whole fixed batches would compute more padding rows than both
    /// the samples themselves and `paddingAllowance`.
    public func checkPadding(sampleCount: Int) throws {
        guard isFixed else { return }
        let rows = (sampleCount + batchSize - 1) / batchSize * batchSize
        let padding = rows - sampleCount
        if padding > sampleCount && padding > Self.paddingAllowance {
            throw ExecutionError.excessivePadding(fixedBatch: batchSize, samples: sampleCount)
        }
    }

    /// The forward passes over `sampleCount` samples.
    public func batches(sampleCount: Int) -> [Batch] {
        precondition(batchSize > 0)
        var result: [Batch] = []
        var start = 0
        while start < sampleCount {
            let end = min(start + batchSize, sampleCount)
            result.append(Batch(samples: start..<end, size: isFixed ? batchSize : end - start))
            start = end
        }
        return result
    }

    /// The inputs of one pass: its rows of `inputs`, padded to its size with copies of the last sample.
    public static func inputs(of batch: Batch, from inputs: [String: Tensor]) -> [String: Tensor] {
        inputs.mapValues { t in
            let rows = t.slice(axis0: batch.samples)
            return batch.isPadded ? rows.padded(axis0: batch.size) : rows
        }
    }
}

extension Tensor {
    /// This tensor with its last row along axis 0 repeated up to `rows` rows.
    public func padded(axis0 rows: Int) -> Tensor {
        guard let n = shape.first, n > 0, rows > n else { return self }
        return Tensor.concatenate(axis0: [self] + Array(repeating: slice(axis0: n - 1..<n), count: rows - n))
    }

    /// The rows of the first `valid` samples of a value computed on a padded batch of `size` rows.
    ///
    /// Values whose axis 0 is the batch (or batch × k, e.g. heads folded into it) keep `valid` (× k) rows;
    /// values without a batch axis (weights, shapes) are returned whole.
    public func validRows(_ valid: Int, of size: Int) -> Tensor {
        guard valid < size, let n = shape.first, n >= size, n % size == 0 else { return self }
        return slice(axis0: 0..<valid * (n / size))
    }
}

import MPQGraph

/// Right-padded token sequences in a model's inputs: an attention mask marks each sample's real tokens, so the
/// positions after a batch's longest sample can be cut from every sequence input of that batch.
///
/// A BERT-style encoder masks padded keys out of its attention and pools over the mask, so its outputs do not depend on
/// trailing padding, and a batch of short sentences padded to 64 or 128 tokens computes mostly padding (65 % of the
/// MiniLM example's positions). Whether a model really ignores the padding is for its user to check on data:
/// `CalibrationSession` compares one batch run trimmed and whole before relying on it.
public struct SequencePadding: Sendable, Equatable {
    /// The attention mask input.
    public let maskName: String
    /// The inputs cut along axis 1: the mask and every other input whose first two axes are the mask's (token ids,
    /// token types, positions, per-token features).
    public let inputNames: [String]
    /// Positions per sample in the data.
    public let fullLength: Int
    /// Real tokens of each sample: the ones at the start of its mask row.
    public let lengths: [Int]
    /// Sample indices with the longest first (ties in data order): batches cut from this order hold samples of
    /// similar lengths, so little padding is left after trimming.
    public let longestFirst: [Int]

    /// The padding of `inputs`, or nil when none is a right-padded attention mask of a length the model lets vary.
    ///
    /// The mask is a rank-2 `[samples, positions]` input named like `attention_mask` (int64, bool or float), whose
    /// rows are ones then zeros. Nil also when another input has the mask's length on an axis other than 1, since
    /// which of its axes holds positions cannot be told.
    public init?(graph: Graph, inputs: [String: Tensor]) {
        let declared = Dictionary(graph.inputs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        // Whether the model lets axis 1 of an input vary (an input without a declared shape may).
        func varies(_ name: String) -> Bool {
            guard let shape = declared[name]?.shape else { return declared[name] != nil }
            guard shape.count >= 2 else { return false }
            if case .fixed = shape[1] { return false }
            return true
        }
        guard let (mask, lengths) = inputs.keys.sorted().lazy.filter({ $0.lowercased().contains("mask") && varies($0) })
            .compactMap({ name in inputs[name].flatMap(Self.rightPaddedLengths).map { (name, $0) } }).first,
              let shape = inputs[mask]?.shape else { return nil }
        let sequences = inputs.keys.sorted().filter { inputs[$0]?.shape.prefix(2).elementsEqual(shape) == true && varies($0) }
        for (name, tensor) in inputs {
            let others = sequences.contains(name) ? Array(tensor.shape.dropFirst(2)) : Array(tensor.shape.dropFirst())
            if others.contains(shape[1]) { return nil }
        }
        maskName = mask
        inputNames = sequences
        fullLength = shape[1]
        self.lengths = lengths
        longestFirst = lengths.indices.sorted { lengths[$0] != lengths[$1] ? lengths[$0] > lengths[$1] : $0 < $1 }
    }

    /// Each row's count of leading ones, when `mask` is `[samples, positions]` of ones then zeros with at least one one.
    static func rightPaddedLengths(_ mask: Tensor) -> [Int]? {
        guard mask.rank == 2, mask.shape[1] >= 2 else { return nil }
        let values = mask.asFloats
        let width = mask.shape[1]
        var lengths: [Int] = []
        for row in 0..<mask.shape[0] {
            let slice = values[(row * width)..<((row + 1) * width)]
            let length = slice.prefix { $0 == 1 }.count
            guard length > 0, slice.dropFirst(length).allSatisfy({ $0 == 0 }) else { return nil }
            lengths.append(length)
        }
        return lengths
    }


    /// Positions a batch of `samples` needs: its longest sample's real tokens.
    public func length(of samples: some Sequence<Int>) -> Int {
        samples.reduce(1) { max($0, lengths[$1]) }
    }

    /// `inputs` with every sequence input cut to its first `length` positions.
    public func trimmed(_ inputs: [String: Tensor], to length: Int) -> [String: Tensor] {
        guard length < fullLength else { return inputs }
        var result = inputs
        for name in inputNames { result[name] = inputs[name]?.prefix(axis1: length) }
        return result
    }
}

extension Tensor {
    /// The rows `indices` along the first axis, in that order.
    public func rows(_ indices: [Int]) -> Tensor {
        let inner = shape.dropFirst().reduce(1, *)
        let newShape = [indices.count] + shape.dropFirst()
        func gather<T>(_ v: [T]) -> [T] { indices.flatMap { v[($0 * inner)..<(($0 + 1) * inner)] } }
        switch storage {
        case .float(let v): return Tensor(shape: newShape, floats: gather(v))
        case .int64(let v): return Tensor(shape: newShape, int64s: gather(v))
        case .bool(let v): return Tensor(shape: newShape, bools: gather(v))
        }
    }

    /// The first `length` entries along axis 1 of a tensor of rank 2 or more.
    public func prefix(axis1 length: Int) -> Tensor {
        precondition(rank >= 2 && length <= shape[1])
        let inner = shape.dropFirst(2).reduce(1, *)
        let (rowStride, kept) = (shape[1] * inner, length * inner)
        var newShape = shape
        newShape[1] = length
        func cut<T>(_ v: [T]) -> [T] { (0..<shape[0]).flatMap { v[($0 * rowStride)..<($0 * rowStride + kept)] } }
        switch storage {
        case .float(let v): return Tensor(shape: newShape, floats: cut(v))
        case .int64(let v): return Tensor(shape: newShape, int64s: cut(v))
        case .bool(let v): return Tensor(shape: newShape, bools: cut(v))
        }
    }
}

import MPQGraph

/// Split along `axis` into the node's outputs: by explicit sizes (the `split` attribute before
/// opset 13, the constant int64 input #1 from 13), or into equal parts, the last one smaller
/// when the size does not divide (opset 18 `num_outputs`; earlier opsets require an even split).
public struct SplitOperator: Operator {
    public let outputTypes: [TensorType]
    let inputType: TensorType
    let outer: Int
    /// Elements per outer index of the input, and of each output.
    let rowLength: Int
    let blocks: [Int]
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        let rank = x.shape.count
        guard rank > 0 else { throw context.invalid("cannot split a scalar") }
        let axis = try context.normalizedAxis(try context.node.int("axis", default: 0), rank: rank)
        let d = x.shape[axis]
        let outputs = context.node.outputs.count
        var sizes: [Int]
        let explicit: [Int]? = context.opset < 13
            ? try context.node.ints("split")
            : (context.hasInput(1) ? try context.constantInts(1, what: "split") : nil)
        let numOutputs = try context.node.int("num_outputs", default: 0)
        if let explicit {
            guard explicit.count == outputs else {
                throw context.invalid("split \(TensorLayout.describe(explicit)) has \(explicit.count) sizes but the node has \(outputs) outputs")
            }
            guard explicit.allSatisfy({ $0 >= 0 }), explicit.reduce(0, +) == d else {
                throw context.invalid("split \(TensorLayout.describe(explicit)) must be non-negative sizes summing to the axis-\(axis) size \(d) of \(TensorLayout.describe(x.shape))")
            }
            sizes = explicit
        } else {
            if context.opset >= 18 {
                guard numOutputs > 0 else {
                    throw context.invalid("opset \(context.opset) needs the split input or the num_outputs attribute")
                }
                guard numOutputs == outputs else {
                    throw context.invalid("num_outputs=\(numOutputs) but the node has \(outputs) outputs")
                }
            }
            let n = max(outputs, 1)
            let chunk = (d + n - 1) / n
            if context.opset < 18 {
                guard d % n == 0 else {
                    throw context.invalid("axis \(axis) of size \(d) does not split evenly into \(n) outputs; give the split sizes explicitly")
                }
            }
            sizes = (0..<n).map { i in max(0, min(chunk, d - i * chunk)) }
            if context.opset >= 18, sizes.last == 0 || sizes.reduce(0, +) != d {
                throw context.invalid("axis \(axis) of size \(d) cannot be split into \(n) parts of ceil(\(d)/\(n)) = \(chunk) with a non-empty last part")
            }
        }
        let inner = TensorLayout.product(x.shape[(axis + 1)...])
        outer = TensorLayout.product(x.shape[..<axis])
        rowLength = d * inner
        blocks = sizes.map { $0 * inner }
        inputType = x
        outputTypes = sizes.map { s in
            var shape = x.shape
            shape[axis] = s
            return TensorType(x.elementType, shape)
        }
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        var column = 0
        var results: [Tensor] = []
        for (k, type) in outputTypes.enumerated() {
            let block = blocks[k]
            let size = type.elementType.storageSize
            let storage = x.storage.withRawBytes { src in
                Tensor.Storage.make(type.elementType, count: type.count) { dst in
                    guard let dst, let src else { return }
                    for o in 0..<outer {
                        (dst + o * block * size).copyMemory(from: src + (o * rowLength + column) * size, byteCount: block * size)
                    }
                }
            }
            results.append(Tensor(shape: type.shape, storage: storage))
            column += block
        }
        return results
    }
}

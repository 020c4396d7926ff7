import MPQGraph

/// Tile: repeats the input `repeats[i]` times along each axis i (repeats a constant int64 input).
public struct TileOperator: Operator {
    public let outputTypes: [TensorType]
    let inputType: TensorType
    let repeats: [Int]
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        let repeats = try context.constantInts(1, what: "repeats")
        guard repeats.count == x.shape.count else {
            throw context.invalid("repeats \(TensorLayout.describe(repeats)) has \(repeats.count) entries but the input \(TensorLayout.describe(x.shape)) has rank \(x.shape.count); give one per axis")
        }
        if let bad = repeats.first(where: { $0 < 0 }) {
            throw context.invalid("repeats \(TensorLayout.describe(repeats)) contains \(bad); repeats must be ≥ 0")
        }
        self.repeats = repeats
        inputType = x
        outputTypes = [TensorType(x.elementType, zip(x.shape, repeats).map { $0 * $1 })]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        // View the output as [r0, d0, r1, d1, ...] and read the input with stride 0 along each repeat axis.
        let own = TensorLayout.strides(x.shape)
        var shape: [Int] = [], strides: [Int] = []
        for (i, d) in x.shape.enumerated() {
            shape += [repeats[i], d]
            strides += [0, own[i]]
        }
        let type = outputTypes[0]
        let storage = x.storage.withRawBytes { src in
            Tensor.Storage.make(type.elementType, count: type.count) { dst in
                guard let dst, let src else { return }
                StridedCopy.gather(src: src, srcStrides: strides, shape: shape, dst: dst,
                                   elementSize: type.elementType.storageSize)
            }
        }
        return [Tensor(shape: type.shape, storage: storage)]
    }
}

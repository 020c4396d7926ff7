import MPQGraph

/// GatherND with `batch_dims` b: indices of shape `[…, k]` (int64, negative counting from the end)
/// address slices of the data's dimensions b..<b+k; the output shape is
/// `indices.shape.dropLast() + data.shape[(b+k)...]`.
public struct GatherNDOperator: Operator {
    public let outputTypes: [TensorType]
    let dataType: TensorType
    let indicesType: TensorType
    let batchDims: Int
    /// Number of indexed dimensions (the indices' last dimension).
    let depth: Int
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let data = try context.inputType(0)
        let indices = try context.inputType(1)
        guard indices.elementType == .int64 else {
            throw context.invalid("indices must be int64, found \(indices); Cast them to int64")
        }
        let b = try context.node.int("batch_dims", default: 0)
        let r = data.shape.count, q = indices.shape.count
        guard r >= 1, q >= 1 else {
            throw context.invalid("data and indices must have rank ≥ 1, found \(TensorLayout.describe(data.shape)) and \(TensorLayout.describe(indices.shape))")
        }
        guard b >= 0, b < min(r, q) else {
            throw context.invalid("batch_dims=\(b) must be in [0, \(min(r, q) - 1)] for data rank \(r) and indices rank \(q)")
        }
        let k = indices.shape[q - 1]
        guard k >= 1, b + k <= r else {
            throw context.invalid("indices' last dimension \(k) must be in [1, \(r - b)] (data rank \(r) minus batch_dims \(b))")
        }
        guard Array(data.shape[..<b]) == Array(indices.shape[..<b]) else {
            throw context.invalid("the first batch_dims=\(b) dimensions of data \(TensorLayout.describe(data.shape)) and indices \(TensorLayout.describe(indices.shape)) must be equal")
        }
        batchDims = b
        depth = k
        dataType = data
        indicesType = indices
        outputTypes = [TensorType(data.elementType, Array(indices.shape.dropLast()) + Array(data.shape[(b + k)...]))]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let data = try label.input(inputs, 0, expecting: dataType)
        let indexTensor = try label.input(inputs, 1, expecting: indicesType)
        guard let idx = indexTensor.int64s else { throw label.error("indices must be int64") }
        let shape = dataType.shape, b = batchDims, k = depth
        let strides = TensorLayout.strides(shape)
        let batchCount = TensorLayout.product(shape[..<b])
        let batchStride = b > 0 ? strides[b - 1] : 0
        let sliceLength = TensorLayout.product(shape[(b + k)...])
        let tuples = idx.count / k
        let perBatch = batchCount > 0 ? tuples / batchCount : 0
        var offsets = [Int](repeating: 0, count: tuples)
        for t in 0..<tuples {
            var off = b > 0 ? (t / max(perBatch, 1)) * batchStride : 0
            for j in 0..<k {
                let d = shape[b + j]
                let v = idx[t * k + j]
                guard v >= -Int64(d), v < Int64(d) else {
                    throw label.error("index \(v) (tuple \(t), component \(j)) is out of range for dimension \(b + j) of size \(d)")
                }
                off += (v < 0 ? Int(v) + d : Int(v)) * strides[b + j]
            }
            offsets[t] = off
        }
        let type = outputTypes[0]
        let size = type.elementType.storageSize
        let storage = data.storage.withRawBytes { src in
            Tensor.Storage.make(type.elementType, count: type.count) { dst in
                guard let dst, let src else { return }
                for (t, off) in offsets.enumerated() {
                    (dst + t * sliceLength * size).copyMemory(from: src + off * size, byteCount: sliceLength * size)
                }
            }
        }
        return [Tensor(shape: type.shape, storage: storage)]
    }
}

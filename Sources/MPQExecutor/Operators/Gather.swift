import MPQGraph

/// Gather along `axis` (negative allowed) with int64 indices of any shape; data of any element
/// type. Negative indices count from the end of the axis; out-of-range indices are an error.
///
/// Output shape: `data.shape[..<axis] + indices.shape + data.shape[(axis+1)...]`; each gathered
/// slice of `inner` contiguous elements is one copy, so embedding lookups are row copies.
public struct GatherOperator: Operator {
    public let outputTypes: [TensorType]
    let dataType: TensorType
    let indicesType: TensorType
    let outer: Int
    let axisSize: Int
    let inner: Int
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let data = try context.inputType(0)
        let indices = try context.inputType(1)
        guard data.shape.count > 0 else { throw context.invalid("data must have rank ≥ 1, found a scalar") }
        guard indices.elementType == .int64 else {
            throw context.invalid("indices must be int64 (int32 is imported as int64), found \(indices); Cast them to int64")
        }
        let axis = try context.normalizedAxis(try context.node.int("axis", default: 0), rank: data.shape.count)
        outer = TensorLayout.product(data.shape[..<axis])
        axisSize = data.shape[axis]
        inner = TensorLayout.product(data.shape[(axis + 1)...])
        dataType = data
        indicesType = indices
        outputTypes = [TensorType(data.elementType, Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...]))]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let data = try label.input(inputs, 0, expecting: dataType)
        let indexTensor = try label.input(inputs, 1, expecting: indicesType)
        guard let raw = indexTensor.int64s else { throw label.error("indices must be int64") }
        let d = axisSize
        var positions = [Int](repeating: 0, count: raw.count)
        for (i, v) in raw.enumerated() {
            let p = v < 0 ? Int(truncatingIfNeeded: v) &+ d : Int(truncatingIfNeeded: v)
            guard v >= -Int64(d), v < Int64(d) else {
                throw label.error("index \(v) at position \(i) is out of range for an axis of size \(d); indices must lie in [\(-d), \(d - 1)]")
            }
            positions[i] = p
        }
        let type = outputTypes[0]
        let size = type.elementType.storageSize
        let count = positions.count, inner = self.inner, outer = self.outer
        let storage = data.storage.withRawBytes { src in
            Tensor.Storage.make(type.elementType, count: type.count) { dst in
                guard let dst, let src else { return }
                let rowBytes = inner * size
                for o in 0..<outer {
                    let base = src + o * d * rowBytes
                    let out = dst + o * count * rowBytes
                    for (j, p) in positions.enumerated() {
                        (out + j * rowBytes).copyMemory(from: base + p * rowBytes, byteCount: rowBytes)
                    }
                }
            }
        }
        return [Tensor(shape: type.shape, storage: storage)]
    }
}

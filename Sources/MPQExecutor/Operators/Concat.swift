import MPQGraph
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Concat along `axis` (negative allowed) for any element type; omitted inputs are skipped.
public struct ConcatOperator: Operator {
    public let outputTypes: [TensorType]
    let inputTypes: [TensorType?]
    /// Product of the dimensions before the axis.
    let outer: Int
    /// Elements per outer index contributed by each present input (its axis extent × inner size).
    let blocks: [Int]
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let present = context.inputTypes.compactMap { $0 }
        guard let first = present.first else { throw context.invalid("needs at least one input") }
        let rank = first.shape.count
        guard rank > 0 else { throw context.invalid("cannot concatenate scalars; Unsqueeze them to rank 1 first") }
        let axis = try context.normalizedAxis(try context.node.int("axis"), rank: rank)
        var outShape = first.shape
        outShape[axis] = 0
        for (i, t) in context.inputTypes.enumerated() {
            guard let t else { continue }
            guard t.elementType == first.elementType else {
                throw context.invalid("input #\(i) is \(t.elementType) but input #0 is \(first.elementType); all inputs must have the same element type")
            }
            guard t.shape.count == rank else {
                throw context.invalid("input #\(i) has shape \(TensorLayout.describe(t.shape)) of rank \(t.shape.count), but the first input has rank \(rank); all inputs must have the same rank")
            }
            for d in 0..<rank where d != axis && t.shape[d] != first.shape[d] {
                throw context.invalid("input #\(i) has shape \(TensorLayout.describe(t.shape)), which differs from \(TensorLayout.describe(first.shape)) in dimension \(d); only the concatenation axis \(axis) may differ")
            }
            outShape[axis] += t.shape[axis]
        }
        let inner = TensorLayout.product(first.shape[(axis + 1)...])
        outer = TensorLayout.product(first.shape[..<axis])
        blocks = present.map { $0.shape[axis] &* inner }
        inputTypes = context.inputTypes
        outputTypes = [TensorType(first.elementType, outShape)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        var tensors: [Tensor] = []
        for (i, t) in inputTypes.enumerated() {
            guard let t else { continue }
            tensors.append(try label.input(inputs, i, expecting: t))
        }
        let type = outputTypes[0]
        let size = type.elementType.storageSize
        let rowLength = blocks.reduce(0, +)
        let storage = Tensor.Storage.make(type.elementType, count: type.count) { dst in
            guard let dst else { return }
            var column = 0
            for (k, t) in tensors.enumerated() {
                let block = blocks[k]
                if block == 0 { continue }
                t.storage.withRawBytes { src in
                    guard let src else { return }
                    for o in 0..<outer {
                        memcpy(dst + (o &* rowLength &+ column) &* size, src + o &* block &* size, block &* size)
                    }
                }
                column += block
            }
        }
        return [Tensor(shape: type.shape, storage: storage)]
    }
}

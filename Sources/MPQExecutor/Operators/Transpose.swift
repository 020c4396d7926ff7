import MPQGraph

/// Transpose by `perm` (default: reversed axes), for any element type.
///
/// Axes that stay adjacent are merged first; a remaining batched 2-D transpose (for example
/// NCHW → NHWC, which becomes [N, C, HW] → [N, HW, C]) is copied in cache-friendly tiles, and
/// anything else goes through a strided gather with contiguous inner runs where possible.
public struct TransposeOperator: Operator {
    public let outputTypes: [TensorType]
    let inputType: TensorType
    /// Output dimensions and the source strides for each, before collapsing.
    let outShape: [Int]
    let srcStrides: [Int]
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        let rank = x.shape.count
        let perm = try context.node.ints("perm") ?? Array((0..<rank).reversed())
        guard perm.count == rank, Set(perm) == Set(0..<rank) else {
            throw context.invalid("perm \(TensorLayout.describe(perm)) is not a permutation of 0..<\(rank) for input shape \(TensorLayout.describe(x.shape)); list every axis exactly once")
        }
        let strides = TensorLayout.strides(x.shape)
        outShape = perm.map { x.shape[$0] }
        srcStrides = perm.map { strides[$0] }
        inputType = x
        outputTypes = [TensorType(x.elementType, outShape)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        let count = x.count
        let size = x.elementType.storageSize
        let storage = x.storage.withRawBytes { src in
            Tensor.Storage.make(x.elementType, count: count) { dst in
                guard let src, let dst else { return }
                TransposeOperator.permute(src: src, dst: dst, shape: outShape, strides: srcStrides, elementSize: size)
            }
        }
        return [Tensor(shape: outShape, storage: storage)]
    }

    static func permute(src: UnsafeRawPointer, dst: UnsafeMutableRawPointer, shape: [Int], strides: [Int], elementSize: Int) {
        // Collapse as the gather would, to spot a batched 2-D transpose.
        var dims: [Int] = []
        var st: [Int] = []
        for (d, s) in zip(shape, strides) where d != 1 {
            if let ld = dims.last, let ls = st.last, ls == s &* d {
                dims[dims.count - 1] = ld &* d
                st[st.count - 1] = s
            } else {
                dims.append(d)
                st.append(s)
            }
        }
        let r = dims.count
        if r >= 2, st[r - 1] == dims[r - 2], st[r - 2] == 1,
           r == 2 || (r == 3 && st[0] == dims[1] &* dims[2]) {
            let p = dims[r - 2], q = dims[r - 1]
            let batches = r == 3 ? dims[0] : 1
            switch elementSize {
            case 4: tiled(src.assumingMemoryBound(to: UInt32.self), dst.assumingMemoryBound(to: UInt32.self), batches, p, q)
            case 8: tiled(src.assumingMemoryBound(to: UInt64.self), dst.assumingMemoryBound(to: UInt64.self), batches, p, q)
            case 1: tiled(src.assumingMemoryBound(to: UInt8.self), dst.assumingMemoryBound(to: UInt8.self), batches, p, q)
            default: StridedCopy.gather(src: src, srcStrides: strides, shape: shape, dst: dst, elementSize: elementSize)
            }
            return
        }
        StridedCopy.gather(src: src, srcStrides: strides, shape: shape, dst: dst, elementSize: elementSize)
    }

    /// dst[b][i][j] = src[b][j][i] for i < p, j < q (source is [q, p] per batch), in 32×32 tiles.
    @inline(__always)
    static func tiled<T>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>, _ batches: Int, _ p: Int, _ q: Int) {
        let tile = 32
        let plane = p &* q
        for b in 0..<batches {
            let s = src + b &* plane, d = dst + b &* plane
            var i0 = 0
            while i0 < p {
                let i1 = min(i0 &+ tile, p)
                var j0 = 0
                while j0 < q {
                    let j1 = min(j0 &+ tile, q)
                    for i in i0..<i1 {
                        let drow = d + i &* q
                        for j in j0..<j1 { drow[j] = s[j &* p &+ i] }
                    }
                    j0 = j1
                }
                i0 = i1
            }
        }
    }
}

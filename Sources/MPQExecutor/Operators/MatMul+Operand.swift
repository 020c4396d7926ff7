import MPQGraph

/// How MatMul reads one operand's matrices from its input tensor: in place, including through a transposed view
/// (a Transpose fused by `GraphOptimizer.fuseMatMulTransposes`) whose matrices have unit stride along rows or columns,
/// else from a permuted copy.
struct MatMulOperand: Sendable {
    /// The operand's shape as MatMul sees it (the input's axes permuted), with a 1-D operand promoted to a matrix.
    let shape: [Int]
    /// Element strides of `shape`'s axes in the memory read (the input's, or the permuted copy's).
    let strides: [Int]
    /// Whether a matrix is read transposed (BLAS `trans`), and its leading dimension.
    let transposed: Bool
    let leading: Int
    /// The permuted copy's shape and source strides, when the view cannot be read in place.
    let copy: (shape: [Int], sourceStrides: [Int])?

    /// The operand of an input of `inputShape` seen through `perm` (nil: as is); `promote` inserts the 1-D axis
    /// (A: a leading 1, B: a trailing 1).
    init(inputShape: [Int], perm: [Int]?, promote: (Int) -> [Int]) {
        let own = TensorLayout.strides(inputShape)
        guard let perm, perm != Array(inputShape.indices) else {
            let shape = promote(inputShape.count)
            self.init(shape: shape, strides: TensorLayout.strides(shape), copy: nil)
            return
        }
        let shape = perm.map { inputShape[$0] }, strides = perm.map { own[$0] }
        let (row, column) = (strides[strides.count - 2], strides[strides.count - 1])
        let rows = shape[shape.count - 2], columns = shape[shape.count - 1]
        if column == 1 || columns == 1 {
            self.init(shape: shape, strides: strides, copy: nil)
        } else {
            self.init(shape: shape, strides: TensorLayout.strides(shape), copy: (shape, strides))
        }
    }

    private init(shape: [Int], strides: [Int], copy: (shape: [Int], sourceStrides: [Int])?) {
        self.shape = shape
        self.strides = strides
        self.copy = copy
        let rows = shape[shape.count - 2], columns = shape[shape.count - 1]
        let (row, column) = (strides[strides.count - 2], strides[strides.count - 1])
        // Row-major when columns are contiguous (or single); else the rows are (a transposed matrix).
        if column == 1 || columns == 1 {
            (transposed, leading) = (false, max(row, columns, 1))
        } else {
            (transposed, leading) = (true, max(column, rows, 1))
        }
    }

    /// Element strides of the batch axes, aligned right to `rank` batch axes (0 for missing and size-1 axes).
    func batchStrides(rank: Int) -> [Int] {
        let own = Array(strides.dropLast(2)), dims = Array(shape.dropLast(2))
        let lead = rank - own.count
        return (0..<rank).map { i in i < lead || dims[i - lead] == 1 ? 0 : own[i - lead] }
    }

    /// The floats to read: `values` itself, or its permuted copy.
    func readable(_ values: [Float]) -> [Float] {
        guard let copy else { return values }
        return [Float](unsafeUninitializedCapacity: values.count) { out, initialized in
            values.withUnsafeBytes { src in
                TransposeOperator.permute(src: src.baseAddress!, dst: UnsafeMutableRawPointer(out.baseAddress!),
                                          shape: copy.shape, strides: copy.sourceStrides, elementSize: 4)
            }
            initialized = values.count
        }
    }
}

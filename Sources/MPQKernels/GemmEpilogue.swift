/// Work `Gemm.sgemm` applies to each block of the product while the block is in cache: a bias added along each row
/// (one value per column, as a linear layer's `MatMul + bias`), then an activation.
///
/// Per element this is `activation(c + bias[j])`, the same float operations as a separate Add and activation.
public struct GemmEpilogue: @unchecked Sendable {
    /// N values, one per output column; nil for none.
    public var columnBias: UnsafePointer<Float>?
    public var activation: Activation

    public init(columnBias: UnsafePointer<Float>?, activation: Activation) {
        self.columnBias = columnBias
        self.activation = activation
    }

    /// Whether there is nothing to do.
    public var isIdentity: Bool { columnBias == nil && activation.isIdentity }

    /// Applies the epilogue to `C[rows, columns]` (leading dimension `ldc`).
    public func apply(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, columns: Range<Int>) {
        let width = columns.count
        guard width > 0 else { return }
        for i in rows {
            let row = c + (i &* ldc &+ columns.lowerBound)
            if let columnBias {
                ElementwiseBinary.add.run(row, aStep: 1, columnBias + columns.lowerBound, bStep: 1, row, count: width)
            }
            if !activation.isIdentity { activation.apply(row, count: width) }
        }
    }
}

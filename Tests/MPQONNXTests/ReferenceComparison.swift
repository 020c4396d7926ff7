import MPQGraph

/// Max absolute error divided by the reference's max absolute value (the 1e-4 criterion).
func relativeMaxError(_ actual: Tensor, _ expected: Tensor) -> Float {
    let a = actual.asFloats
    let e = expected.asFloats
    precondition(a.count == e.count)
    var maxErr: Float = 0
    var maxRef: Float = 0
    for i in a.indices {
        maxErr = max(maxErr, abs(a[i] - e[i]))
        maxRef = max(maxRef, abs(e[i]))
    }
    if maxErr.isNaN { return .infinity }
    return maxRef > 0 ? maxErr / maxRef : maxErr
}

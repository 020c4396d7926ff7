extension SIMD8 where Scalar == Float {
    /// Lane-wise clamp to `[lo, hi]`; a NaN lane passes through.
    ///
    /// Written as a select per lane, which LLVM lowers to one max and one min instruction; the mask form
    /// (`replacing(with:where:)`) costs a compare and a blend per bound, and the generic `clamped(lowerBound:upperBound:)`
    /// is outlined and lane by lane.
    @inlinable @inline(__always)
    public func laneClamped(_ lo: Self, _ hi: Self) -> Self {
        var r = self
        for i in indices {
            let a = self[i]
            let b = a < lo[i] ? lo[i] : a
            r[i] = b > hi[i] ? hi[i] : b
        }
        return r
    }
}

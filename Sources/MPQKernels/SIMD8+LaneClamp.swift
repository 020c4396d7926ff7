import CVectorLanes

extension SIMD8 where Scalar == Float {
    /// Lane-wise clamp to `[lo, hi]`; a NaN lane passes through.
    ///
    /// One max and one min instruction (`CVectorLanes`): a per-lane select was vectorised in some kernels and left
    /// lane by lane in others, and `clamped(lowerBound:upperBound:)` is outlined and lane by lane.
    @inlinable @inline(__always)
    public func laneClamped(_ lo: Self, _ hi: Self) -> Self { mpq_clamp8(self, lo, hi) }
}

/// A transform of float values that maps each value on its own (a per-tensor fake quantizer), so it may be applied
/// to any contiguous run of a tensor, in any split, with the same result as one pass over the whole tensor.
///
/// A producing kernel applies it to each part of its output right after writing that part, while the part is still
/// in cache (`Conv2D.forward`'s `outputTransform`): a separate pass would read and write the whole tensor again.
public struct ElementwiseTransform: Sendable {
    /// Rewrites `count` values at the pointer in place.
    public let apply: @Sendable (UnsafeMutablePointer<Float>, Int) -> Void

    public init(_ apply: @escaping @Sendable (UnsafeMutablePointer<Float>, Int) -> Void) { self.apply = apply }

    /// Applies the transform to `rows` runs of `count` values, `stride` values apart.
    @inline(__always)
    func applyRows(_ start: UnsafeMutablePointer<Float>, count: Int, rows: Int, stride: Int) {
        for r in 0..<rows { apply(start + r &* stride, count) }
    }
}

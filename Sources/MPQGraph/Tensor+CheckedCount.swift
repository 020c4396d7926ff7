import Foundation

extension Tensor {
    /// The largest element count mpq accepts for one tensor read from a file or inferred from one: a quarter of
    /// the machine's memory in float32 (at most 2^34). Beyond it the allocation would fail with a trap, so the
    /// shape is refused with a message first; such a shape is a corruption or a typo, not a model.
    public static let maximumElementCount = min(1 << 34, Int(clamping: ProcessInfo.processInfo.physicalMemory / 16))

    /// The number of elements of `shape`, or nil when a dimension is negative, the product overflows `Int`
    /// or exceeds `maximumElementCount`. Sizes read from files go through this before anything is allocated.
    public static func checkedCount(of shape: [Int]) -> Int? {
        var count = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { return nil }
            count = p
        }
        // A zero dimension makes the product 0 whatever the others are; still refuse absurd ones.
        if count == 0, shape.contains(where: { $0 > maximumElementCount }) { return nil }
        return count <= maximumElementCount ? count : nil
    }
}

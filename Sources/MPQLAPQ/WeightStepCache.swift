import Foundation
import MPQQuantization

/// Memoized weight step sizes: a weight's Lp clipping depends only on the weight, its grid, the
/// per-channel axis and p, and the same ones recur across the p sweep of every group and plan.
///
/// A class so that copies of a `StepSearch` share one memo; a lock makes it safe to share.
public final class WeightStepCache: @unchecked Sendable {
    private var entries: [String: QuantizerParameters] = [:]
    private let lock = NSLock()

    public init() {}

    func parameters(for key: String, compute: () throws -> QuantizerParameters) rethrows -> QuantizerParameters {
        lock.lock()
        if let hit = entries[key] { lock.unlock(); return hit }
        lock.unlock()
        let value = try compute()
        lock.lock()
        entries[key] = value
        lock.unlock()
        return value
    }

    /// Number of stored entries.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count
    }
}

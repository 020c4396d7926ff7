import Dispatch
import Foundation

/// Independent items shared among worker threads: each worker starts from its own copy of some state
/// (e.g. calibration sessions), takes the next item in order, and stops at the first error, which is rethrown.
///
/// With more than one worker the kernels run single-threaded inside (the workers are the parallelism); results
/// must not depend on which worker ran an item, which is what keeps them identical for any thread count.
public enum ParallelWork {
    /// Runs `body(&state, index)` for every index in 0..<count on at most `workers` threads.
    public static func forEach<State>(_ count: Int, workers: Int, state: State,
                                      _ body: (inout State, Int) throws -> Void) throws {
        let workers = min(max(1, workers), count)
        guard workers > 1 else {
            var state = state
            for i in 0..<count { try body(&state, i) }
            return
        }
        let queue = Locked((next: 0, failure: Error?.none))
        let savedThreads = KernelThreads.count
        KernelThreads.count = 1
        defer { KernelThreads.count = savedThreads }
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            var state = state
            while let i = queue.withValue({ q -> Int? in
                guard q.failure == nil, q.next < count else { return nil }
                q.next += 1
                return q.next - 1
            }) {
                do { try body(&state, i) } catch { queue.withValue { if $0.failure == nil { $0.failure = error } } }
            }
        }
        if let failure = queue.withValue({ $0.failure }) { throw failure }
    }
}

/// A value shared by threads, read and changed only under its lock.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    /// Runs `body` on the value with the lock held.
    public func withValue<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

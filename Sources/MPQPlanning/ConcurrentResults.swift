import Foundation

/// Work items handed out in order to concurrent workers, their results kept by index, and the first error.
final class ConcurrentResults<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value?]
    private var next = 0
    private var done = 0
    private var failure: Error?

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// The next item's index, or nil when all are taken or a worker failed.
    func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard failure == nil, next < slots.count else { return nil }
        next += 1
        return next - 1
    }

    /// Keeps item `index`'s result and reports the count finished, under the lock (reports come in order).
    func set(_ index: Int, _ value: Value, report: (Int) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = value
        done += 1
        report(done)
    }

    func fail(_ error: Error) {
        lock.lock()
        if failure == nil { failure = error }
        lock.unlock()
    }

    /// Every result in index order, or the first error.
    func values() throws -> [Value] {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        return slots.map { $0! }
    }
}

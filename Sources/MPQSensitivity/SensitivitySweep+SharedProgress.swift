import Foundation
import MPQLAPQ

extension SensitivitySweep {
    /// The table and work queue the sweep's workers share: groups are handed out in order, results
    /// recorded and saved under one lock, and the first error stops every worker.
    final class SharedProgress: @unchecked Sendable {
        private let lock = NSLock()
        private var table: SensitivityTable
        private var done: Int
        private var cursor = 0
        private var failure: Error?

        init(table: SensitivityTable, done: Int) {
            self.table = table
            self.done = done
        }

        /// The next pending group index, or nil when none is left or a worker failed.
        func next(from pending: [Int]) -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard failure == nil, cursor < pending.count else { return nil }
            cursor += 1
            return pending[cursor - 1]
        }

        /// Stores one group's results and saves the table (atomically), so an interrupted sweep resumes.
        func record(_ group: String, row: [String: Double?], quantizers: [String: [TensorQuantizer]], seconds: Double,
                    store: URL?, progress: (Int) -> Void) throws {
            lock.lock()
            defer { lock.unlock() }
            table.increases[group] = row
            table.quantizers[group] = quantizers
            table.seconds[group] = seconds
            if let store { try table.save(to: store) }
            done += 1
            progress(done)
        }

        func fail(_ error: Error) {
            lock.lock()
            if failure == nil { failure = error }
            lock.unlock()
        }

        /// The filled table, or the first error.
        func result() throws -> SensitivityTable {
            lock.lock()
            defer { lock.unlock() }
            if let failure { throw failure }
            return table
        }
    }
}

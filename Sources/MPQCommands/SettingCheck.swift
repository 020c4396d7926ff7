import Foundation

/// The one validation path for numeric settings that come either from a command-line option or from a
/// project-file field, so that `mpq.json` values are held to the same rules as their options.
enum SettingCheck {
    /// The largest batch size accepted: beyond it a batch is a typo, and allocating for it would exhaust memory.
    static let maximumBatchSize = 1 << 20

    /// A batch size in 1...maximumBatchSize; `source` names where it came from (`--batch-size`, `mpq.json batch_size`).
    static func batchSize(_ n: Int?, source: String) throws {
        guard let n else { return }
        guard n >= 1, n <= maximumBatchSize else {
            throw UsageProblem("\(source) must be between 1 and \(maximumBatchSize), got \(n)")
        }
    }

    /// A positive count (samples, evaluations).
    static func positive(_ n: Int?, source: String) throws {
        guard let n else { return }
        guard n >= 1 else { throw UsageProblem("\(source) must be positive, got \(n)") }
    }

    /// A count where 0 means "off".
    static func nonNegative(_ n: Int?, source: String) throws {
        guard let n else { return }
        guard n >= 0 else { throw UsageProblem("\(source) must be 0 (off) or positive, got \(n)") }
    }

    /// A thread count: positive, and clamped to the machine's processors (OpenBLAS with many more threads
    /// than cores can stall under a memory limit).
    static func threads(_ n: Int?, source: String = "--threads") throws -> Int? {
        guard let n else { return nil }
        guard n >= 1 else { throw UsageProblem("\(source) must be positive, got \(n)") }
        return min(n, ProcessInfo.processInfo.activeProcessorCount)
    }
}

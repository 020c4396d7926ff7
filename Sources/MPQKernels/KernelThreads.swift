import Dispatch
import Foundation

/// How many threads the kernels may use.
///
/// Defaults to the number of active processors, and is clamped to 1...that: more threads than cores only
/// oversubscribe them (OpenBLAS with 48 threads under a memory limit hung). Set it to 1 to run every kernel
/// (and OpenBLAS) single-threaded, e.g. to compare against a single-threaded reference runtime.
public enum KernelThreads {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var value = ProcessInfo.processInfo.activeProcessorCount

    /// The machine's active processors, the most threads the budget allows.
    public static let processors = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// The thread budget (1 to `processors`).
    public static var count: Int {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = clamped(newValue); lock.unlock() }
    }

    /// The budget a requested thread count sets: at least 1, at most `processors`.
    static func clamped(_ requested: Int) -> Int { min(max(1, requested), processors) }
}

extension KernelThreads {
    /// Runs `body(range)` over `0..<count` cut into at most `count` threads' worth of contiguous
    /// ranges, each at least `grain` items (one range, on the caller, when `count < 2·grain`).
    /// For element-wise work whose results do not depend on the cut.
    public static func forEachRange(count: Int, grain: Int, threads: Int? = nil, _ body: (Range<Int>) -> Void) {
        let threads = threads ?? KernelThreads.count
        let chunks = max(1, min(threads, count / max(grain, 1)))
        Parallel.forEachChunk(count: count, threads: chunks) { _, range in body(range) }
    }
}

/// A raw pointer that may be captured by `concurrentPerform` closures. The caller guarantees that
/// concurrent iterations touch disjoint memory.
@usableFromInline
struct SendablePointer<T>: @unchecked Sendable {
    @usableFromInline let p: UnsafeMutablePointer<T>
    @inlinable init(_ p: UnsafeMutablePointer<T>) { self.p = p }
    @inlinable init(_ p: UnsafePointer<T>) { self.p = UnsafeMutablePointer(mutating: p) }
}

/// Internal helpers for OpenBLAS's global thread count and outer-level parallel loops.
enum Parallel {
    /// Sets OpenBLAS's thread count when products may go to it (`backend` is not oneDNN); with oneDNN, OpenBLAS is
    /// not even loaded (`OpenBLAS`).
    static func setBLASThreads(_ n: Int, for backend: GemmBackend = Gemm.backend) {
        guard backend != .oneDNN else { return }
        OpenBLAS.setThreads(n)
    }

    /// Runs `body(chunk, range)` over `count` items split into at most `threads` contiguous chunks,
    /// in parallel when `threads > 1`, with OpenBLAS forced to one thread inside the region (outer
    /// parallelism plus OpenBLAS threads would oversubscribe the cores).
    static func forEachChunk(count: Int, threads: Int, _ body: (Int, Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(max(1, threads), count)
        if chunks == 1 {
            body(0, 0..<count)
            return
        }
        setBLASThreads(1)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(c, lo..<hi) }
        }
    }
}

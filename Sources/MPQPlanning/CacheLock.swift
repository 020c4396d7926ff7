import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on one sensitivity table, so that two `mpq plan` processes on the same model, data, profile
/// and settings measure its groups once: the second waits while the first sweeps, then finds every group stored.
///
/// It is a `flock` on `<table>.lock`, which the kernel releases when the holder exits in any way (`kill -9`
/// included), so a lock left by a killed process is never stale: the next process takes it over at once. The
/// file holds the holder's pid, for the message of a process that has to wait.
public final class CacheLock {
    private let descriptor: Int32
    /// The lock file's path.
    public let path: String

    /// Takes the lock for the table at `store`, calling `waiting(pid)` once when another live process holds it.
    public init(for store: URL, waiting: (Int32?) -> Void = { _ in }) throws {
        path = store.path + ".lock"
        try FileManager.default.createDirectory(at: store.deletingLastPathComponent(), withIntermediateDirectories: true)
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw PlanOutputError(path: path, reason: String(cString: strerror(errno)))
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw PlanOutputError(path: path, reason: "cannot lock (\(reason))")
            }
            waiting(Self.holder(of: path))
            while flock(descriptor, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    let reason = String(cString: strerror(errno))
                    close(descriptor)
                    throw PlanOutputError(path: path, reason: "cannot lock (\(reason))")
                }
            }
        }
        // Ours now: record who holds it.
        let pid = Data("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, pid.count, 0) }
    }

    deinit {
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// The pid recorded in a lock file, if any.
    static func holder(of path: String) -> Int32? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

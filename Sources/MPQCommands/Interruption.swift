import Foundation

/// A one-line note on stderr when Ctrl-C (SIGINT) or SIGTERM stops a long command, saying what was kept and how to go
/// on; the process then exits with 128 + the signal, as the signal itself would have.
///
/// The handler only writes a prepared message and exits (both async-signal-safe); what is kept was already written
/// (see `announce(keeping:in:)`).
enum Interruption {
    /// The message the handler writes, as a C string made once (a handler must not allocate).
    nonisolated(unsafe) private static var note: UnsafeMutablePointer<CChar>?
    /// Every note made, by text, never freed: commands run concurrently in one test process, and freeing a note
    /// another thread installed (or a handler reads) was a double free.
    nonisolated(unsafe) private static var made: [String: UnsafeMutablePointer<CChar>] = [:]
    private static let lock = NSLock()

    /// Installs the handlers with `message` (one line, without the program name).
    static func announce(_ message: String) {
        let text = "\nmpq: interrupted; \(CommandFailure.oneLine(message))\n"
        lock.lock()
        if made[text] == nil { made[text] = strdup(text) }
        note = made[text]
        lock.unlock()
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { received in
                if let text = Interruption.note { _ = write(STDERR_FILENO, text, strlen(text)) }
                _exit(128 + received)
            }
        }
    }

    /// Restores the default handlers (the command is done; in tests the process goes on to other work).
    static func clear() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    /// The note of commands that keep `what` (e.g. "the sensitivity groups") in `cache` as they measure it: the
    /// sweep journals each group, `mpq plan` writes its measured plans every second.
    static func announce(keeping what: String, in cache: URL) {
        announce("\(what) measured so far are kept in \(cache.path); the same command resumes from them")
    }
}

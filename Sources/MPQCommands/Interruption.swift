import Foundation

/// A one-line note on stderr when Ctrl-C (SIGINT) or SIGTERM stops a long command, saying what was kept and how to go
/// on; the process then exits with 128 + the signal, as the signal itself would have.
///
/// The handler only writes a prepared message and exits (both async-signal-safe); what is kept was already written
/// (the sweep journals each group as it is measured; plan measurements are written every second).
enum Interruption {
    /// The message the handler writes, as a C string made once (a handler must not allocate).
    nonisolated(unsafe) private static var note: UnsafeMutablePointer<CChar>?

    /// Installs the handlers with `message` (one line, without the program name).
    static func announce(_ message: String) {
        free(note)
        note = strdup("\nmpq: interrupted; \(CommandFailure.oneLine(message))\n")
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

    /// The note of commands that measure sensitivities into `cache`.
    static func announceSensitivities(in cache: URL) {
        announce("the sensitivity groups measured so far are kept in \(cache.path); the same command resumes from them")
    }

    /// The note of `mpq plan`, which also keeps the plans it measured (written every second) in `cache`.
    static func announcePlanning(in cache: URL) {
        announce("the sensitivity groups and plans measured so far are kept in \(cache.path); the same command resumes from them")
    }
}

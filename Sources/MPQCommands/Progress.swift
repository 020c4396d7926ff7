import Foundation

/// Progress of long work, printed to stderr: a rewritten line on a terminal, sparse lines otherwise.
struct Progress {
    let label: String
    private(set) var total: Int
    private let start = Date()
    private let interactive = isatty(FileHandle.standardError.fileDescriptor) != 0
    private var lastPrinted = Date.distantPast
    let quiet: Bool

    init(label: String, total: Int, quiet: Bool = false) {
        self.label = label
        self.total = total
        self.quiet = quiet
    }

    mutating func update(_ done: Int) {
        guard !quiet else { return }
        let now = Date()
        let finished = done >= total
        // Work that finishes within a second needs no progress display.
        guard now.timeIntervalSince(start) >= 1 || (finished && lastPrinted != .distantPast) else { return }
        guard finished || now.timeIntervalSince(lastPrinted) >= (interactive ? 0.2 : 5) else { return }
        lastPrinted = now
        let elapsed = now.timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let percent = total > 0 ? 100 * done / total : 100
        let text = "\(label): \(done)/\(total) (\(percent)%), \(Self.format(elapsed)) elapsed, ETA \(Self.format(eta))"
        let line = interactive ? "\r\(text)\u{1B}[K" + (finished ? "\n" : "") : text + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Updates with a total that may have changed (work that ends before its budget, e.g. an early stop).
    mutating func update(_ done: Int, of total: Int) {
        self.total = total
        update(done)
    }

    static func format(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : String(format: "%.1fs", seconds)
    }
}

import Foundation
import MPQCommands

enum Paths {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func example(_ path: String) -> String { repository.appendingPathComponent("examples/" + path).path }
    static func fixture(_ path: String) -> String {
        repository.appendingPathComponent("Tests/MPQONNXTests/Fixtures/" + path).path
    }
    static func temporary(_ name: String) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mpq-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name)
    }
}

/// Runs `mpq` in process as the CLI would: the exit code and the one-line error message (if any).
func runMPQ(_ arguments: [String]) -> (code: Int32, message: String) {
    do {
        var command = try MPQCommand.parseAsRoot(arguments)
        try command.run()
        return (0, "")
    } catch {
        if let code = CommandFailure.exitCode(for: error) {
            return (code, CommandFailure.message(for: error))
        }
        return (MPQCommand.exitCode(for: error).rawValue, MPQCommand.message(for: error))
    }
}

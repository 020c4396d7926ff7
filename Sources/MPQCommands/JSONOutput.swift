import Foundation

/// Stable, readable JSON for command output.
enum JSONOutput {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Writes `value` as JSON to `path` atomically.
    static func write<T: Encodable>(_ value: T, to path: String) throws {
        let text = try encode(value) + "\n"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw OutputProblem(path: path, reason: error.localizedDescription)
        }
    }
}

/// An output file could not be written.
struct OutputProblem: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "cannot write \(path): \(reason)" }
}

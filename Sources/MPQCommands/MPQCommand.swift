import ArgumentParser
import Foundation

/// The `mpq` command-line tool.
public struct MPQCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mpq",
        abstract: "Mixed-precision bit-width planning for post-training quantization.",
        subcommands: [InspectCommand.self, EvalCommand.self, QuantizeCommand.self, PlanCommand.self, SensitivityCommand.self, RefineCommand.self, ExportCommand.self]
    )

    public init() {}

    /// Parses the arguments, runs the command, and maps errors to one-line messages and exit codes.
    public static func main(_ arguments: [String]? = nil) {
        do {
            var command = try parseAsRoot(joiningNegativeValues(arguments ?? Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch {
            if let failure = failure(for: error) {
                FileHandle.standardError.write(Data("mpq: error: \(failure.message)\n".utf8))
                Foundation.exit(failure.code)
            }
            exit(withError: error)
        }
    }

    /// The exit code and one-line message of an error; nil for help and version output and for real usage errors
    /// (a missing argument, an unknown option), which ArgumentParser prints with the usage block. A bad option
    /// value is one line, exit 64.
    public static func failure(for error: Error) -> (code: Int32, message: String)? {
        if let code = CommandFailure.exitCode(for: error) { return (code, CommandFailure.message(for: error)) }
        let text = message(for: error)
        let isUsage = ["Missing expected argument", "Unknown option", "Unexpected argument", "No value set"].contains { text.contains($0) }
        if exitCode(for: error) == .success || text.isEmpty || isUsage { return nil }
        return (64, CommandFailure.oneLine(text.split(separator: "\n").first.map(String.init) ?? text))
    }

    /// `--budget -5bits` reads as an unknown option `-5bits`; joined as `--budget=-5bits` the value reaches its
    /// parser, which explains in one line what is wrong with it.
    public static func joiningNegativeValues(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a.hasPrefix("--"), !a.contains("="), i + 1 < arguments.count,
               let next = arguments[i + 1].dropFirst().first, arguments[i + 1].hasPrefix("-"), next.isNumber || next == "." {
                result.append("\(a)=\(arguments[i + 1])")
                i += 2
                continue
            }
            result.append(a)
            i += 1
        }
        return result
    }
}

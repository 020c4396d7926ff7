import ArgumentParser
import Foundation

/// The `mpq` command-line tool.
public struct MPQCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mpq",
        abstract: "Mixed-precision bit-width planning for post-training quantization.",
        subcommands: [InspectCommand.self, EvalCommand.self, QuantizeCommand.self, PlanCommand.self, RefineCommand.self, ExportCommand.self]
    )

    public init() {}

    /// Parses the arguments, runs the command, and maps errors to one-line messages and exit codes.
    public static func main(_ arguments: [String]? = nil) {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            if let code = CommandFailure.exitCode(for: error) {
                FileHandle.standardError.write(Data("mpq: error: \(CommandFailure.message(for: error))\n".utf8))
                Foundation.exit(code)
            }
            exit(withError: error)
        }
    }
}

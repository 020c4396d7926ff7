import ArgumentParser

/// The `mpq` command-line tool.
public struct MPQCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mpq",
        abstract: "Mixed-precision bit-width planning for post-training quantization.",
        subcommands: []
    )
    public init() {}
}

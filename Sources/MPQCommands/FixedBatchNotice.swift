import Foundation
import MPQGraph

/// The one stderr line saying that a model's fixed batch size overrides the batch size the user asked for.
enum FixedBatchNotice {
    /// The line for `graph` when the user asked for `requested` samples per pass (nil: asked for nothing).
    static func text(graph: Graph, requested: Int?, source: String = "--batch-size") -> String? {
        guard let fixed = graph.fixedBatchSize, let requested, requested != fixed else { return nil }
        return "note: the model fixes its batch size at \(fixed), so it runs in batches of \(fixed) (\(source) \(requested) does not apply; the last batch is padded and the padding ignored)"
    }

    /// Writes `text(graph:requested:source:)` to stderr, if there is one.
    static func say(graph: Graph, requested: Int?, source: String = "--batch-size") {
        guard let line = text(graph: graph, requested: requested, source: source) else { return }
        FileHandle.standardError.write(Data("\(line)\n".utf8))
    }
}

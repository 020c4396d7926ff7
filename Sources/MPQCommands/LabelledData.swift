import Foundation
import MPQData
import MPQGraph

/// Inputs with optional integer labels, checked against the model.
struct LabelledData {
    var inputs: [String: Tensor]
    var sampleCount: Int
    var labels: [Int]?
    var sampleShapes: [String: [Int]] { inputs.mapValues { Array($0.shape.dropFirst()) } }

    init(data: [String], labels path: String?, graph: Graph) throws {
        let dataset = try Dataset(arguments: data, graph: graph)
        inputs = dataset.inputs
        sampleCount = dataset.sampleCount
        guard let path else { labels = nil; return }
        // Labels index the classes of the first output's last axis; validated again when scored.
        let classes = graph.outputs.first?.shape?.last.flatMap { d -> Int? in
            if case .fixed(let n) = d { return n } else { return nil }
        } ?? Int.max
        labels = try NumpyArray(contentsOf: URL(fileURLWithPath: path)).validatedLabels(sampleCount: sampleCount, numClasses: classes)
    }

    /// The first `count` samples (all of them when there are fewer).
    func prefix(_ count: Int) -> LabelledData {
        guard count < sampleCount else { return self }
        var copy = self
        copy.inputs = inputs.mapValues { $0.slice(axis0: 0..<count) }
        copy.labels = labels.map { Array($0.prefix(count)) }
        copy.sampleCount = count
        return copy
    }
}

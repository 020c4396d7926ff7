import Foundation
import MPQData
import MPQGraph

/// Inputs with optional integer labels, checked against the model.
public struct LabelledData: Sendable {
    public var inputs: [String: Tensor]
    public var sampleCount: Int
    public var labels: [Int]?
    /// Each input's shape without the sample axis.
    public var sampleShapes: [String: [Int]] { inputs.mapValues { Array($0.shape.dropFirst()) } }

    /// Reads `data` (as `Dataset` does) and the labels at `path`, if any.
    public init(data: [String], labels path: String?, graph: Graph, maxSamples: Int? = nil) throws {
        let dataset = try Dataset(arguments: data, graph: graph, maxSamples: maxSamples)
        inputs = dataset.inputs
        sampleCount = dataset.sampleCount
        guard let path else { labels = nil; return }
        // Labels index the classes of the first output's last axis; validated again when scored.
        let classes = graph.outputs.first?.shape?.last.flatMap { d -> Int? in
            if case .fixed(let n) = d { return n } else { return nil }
        } ?? Int.max
        let all = try NumpyArray(contentsOf: URL(fileURLWithPath: path)).validatedLabels(sampleCount: dataset.fileSampleCount, numClasses: classes)
        labels = Array(all.prefix(sampleCount))
    }

    /// The first `count` samples (all of them when there are fewer).
    public func prefix(_ count: Int) -> LabelledData {
        guard count < sampleCount else { return self }
        var copy = self
        copy.inputs = inputs.mapValues { $0.slice(axis0: 0..<count) }
        copy.labels = labels.map { Array($0.prefix(count)) }
        copy.sampleCount = count
        return copy
    }
}

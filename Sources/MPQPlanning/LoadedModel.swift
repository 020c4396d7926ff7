import Foundation
import MPQExecutor
import MPQGraph
import MPQONNX

/// A model read from disk and simplified, ready to compile for concrete input shapes.
public struct LoadedModel {
    public var onnx: ONNXModel
    public var graph: Graph
    public var optimization: GraphOptimizer.Report

    /// Reads and simplifies the ONNX model at `path`.
    public init(path: String) throws {
        onnx = try ONNXModel.load(contentsOf: URL(fileURLWithPath: path))
        (graph, optimization) = try onnx.optimizedGraph()
    }
}

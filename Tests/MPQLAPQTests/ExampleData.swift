import Foundation
import MPQData
import MPQGraph
import MPQONNX

/// A committed example model with its calibration data.
struct ExampleData {
    var graph: Graph
    var inputs: [String: Tensor]
    var labels: [Int]

    init(_ name: String, samples: Int) throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/\(name)")
        graph = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model.onnx")).optimizedGraph().0
        let x = try NumpyArray(contentsOf: dir.appendingPathComponent("calib.npy")).tensor
        inputs = [graph.inputs[0].name: x.slice(axis0: 0..<samples)]
        labels = try NumpyArray(contentsOf: dir.appendingPathComponent("calib_labels.npy")).tensor.asInt64s.prefix(samples).map { Int($0) }
    }
}

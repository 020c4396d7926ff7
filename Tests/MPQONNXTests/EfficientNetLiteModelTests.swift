import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQONNX
import Testing

/// Runs `model` on the `image` input of `inputs` and returns the relative max error
/// (max |mpq − ORT| / max |ORT|) against the ONNX Runtime reference logits.
private func relativeMaxErrorAgainstORT(model: URL, inputs: URL, reference: URL, samples: Int? = nil) throws -> Float {
    let (graph, _) = try ONNXModel.load(contentsOf: model).optimizedGraph()
    let archive = try NumpyArchive(contentsOf: inputs)
    var image = try archive.array(named: graph.inputs[0].name).tensor
    var expected = try NumpyArray(contentsOf: reference).tensor
    if let samples, image.shape[0] > samples {
        image = image.slice(axis0: 0..<samples)
        expected = expected.slice(axis0: 0..<samples)
    }
    let plan = try ExecutionPlan(graph: graph, inputShapes: [graph.inputs[0].name: image.shape])
    let logits = try #require(try plan.run([graph.inputs[0].name: image]).outputs[graph.outputs[0].name])
    #expect(logits.shape == expected.shape)
    let a = logits.asFloats, b = expected.asFloats
    let scale = b.map(abs).max() ?? 1
    return (zip(a, b).map { abs($0 - $1) }.max() ?? 0) / scale
}

/// The committed tiny random-weight EfficientNet-Lite (same structure as Lite1: stem, MBConv blocks with
/// ReLU6 and TF "same" padding, head, pooling, classifier; width 0.1, depth 0.3, 64×64 input) reproduces
/// ONNX Runtime's FP32 logits within 1e-4 relative max error.
@Test func tinyEfficientNetLiteMatchesONNXRuntime() throws {
    let dir = TestPaths.example("efficientnet-lite").appendingPathComponent("tiny")
    let error = try relativeMaxErrorAgainstORT(model: dir.appendingPathComponent("model.onnx"),
                                               inputs: dir.appendingPathComponent("inputs.npz"),
                                               reference: dir.appendingPathComponent("reference_logits.npy"))
    #expect(error <= 1e-4, "relative max |mpq − ORT| \(error)")
}

/// The generated pretrained EfficientNet-Lite1 (`python3 examples/efficientnet-lite/make_model.py`), on the
/// first 4 validation crops: within 1e-4 relative max error of ONNX Runtime. Skipped when not generated.
@Test(.enabled(if: FileManager.default.fileExists(
    atPath: TestPaths.example("efficientnet-lite").appendingPathComponent("generated/model.onnx").path)))
func efficientNetLite1MatchesONNXRuntime() throws {
    let dir = TestPaths.example("efficientnet-lite").appendingPathComponent("generated")
    let error = try relativeMaxErrorAgainstORT(model: dir.appendingPathComponent("model.onnx"),
                                               inputs: dir.appendingPathComponent("val.npz"),
                                               reference: dir.appendingPathComponent("reference_logits_val.npy"),
                                               samples: 4)
    #expect(error <= 1e-4, "relative max |mpq − ORT| \(error)")
}

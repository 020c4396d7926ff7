import Foundation
@testable import MPQCommands
import MPQData
import MPQGraph
import Testing

@Test func inspectReportsHandCountedMACs() throws {
    let report = try InspectCommand.makeReport(model: Paths.example("digits/model.onnx"))
    // conv1 1→16 3×3 pad 1 on 8×8: 16·64 outputs × 9; conv2 16→32 stride 2: 32·16 × 144;
    // conv3 32→32: 32·16 × 288; fc 32→10: 320.
    #expect(report.layers.filter { $0.opType == "Conv" }.map(\.macs) == [9_216, 73_728, 147_456])
    #expect(report.totalMACs == 9_216 + 73_728 + 147_456 + 320)
    // Weights + biases (BatchNorm folded into conv1): 16·9+16, 32·144+32, 32·288+32, 10·32+10.
    #expect(report.totalParameters == 160 + 4_640 + 9_248 + 330)
    #expect(report.folded["batchNorms"] == 1)
    #expect(report.layers.last?.outputShape == [1, 10])
    #expect(runMPQ(["inspect", Paths.example("digits/model.onnx"), "--json"]).code == 0)
}

@Test func evalMatchesReferenceAndAccuracy() throws {
    let saved = Paths.temporary("digits-logits.npy")
    let result = runMPQ(["eval", Paths.example("digits/model.onnx"), "--data", Paths.example("digits/val.npy"),
                         "--labels", Paths.example("digits/val_labels.npy"), "--save-outputs", saved.path, "--batch-size", "100"])
    #expect(result.code == 0, "\(result.message)")
    let logits = try NumpyArray(contentsOf: saved).tensor
    let reference = try NumpyArray(contentsOf: URL(fileURLWithPath: Paths.example("digits/val_reference.npy"))).tensor
    #expect(logits.shape == [500, 10])
    let a = logits.asFloats, r = reference.asFloats
    let maxRef = r.map(abs).max()!
    let maxErr = zip(a, r).map { abs($0 - $1) }.max()!
    #expect(maxErr / maxRef <= 1e-4)
}

// Malformed inputs: a one-line error and a non-zero exit code.

@Test func truncatedModelFails() {
    let r = runMPQ(["eval", Paths.fixture("malformed/truncated.onnx"), "--data", Paths.example("digits/val.npy")])
    #expect(r.code == CommandFailure.dataError)
    #expect(r.message.contains("truncated.onnx") && r.message.contains("not a valid ONNX model"))
    #expect(!r.message.contains("\n"))
}

@Test func nonONNXFileFails() {
    let r = runMPQ(["inspect", Paths.fixture("malformed/not-onnx.onnx")])
    #expect(r.code == CommandFailure.dataError)
    #expect(r.message.contains("not-onnx.onnx"))
}

@Test func nonExistentPathsFail() {
    let model = runMPQ(["inspect", "/no/such/model.onnx"])
    #expect(model.code == CommandFailure.noInput)
    #expect(model.message.contains("/no/such/model.onnx"))
    let data = runMPQ(["eval", Paths.example("digits/model.onnx"), "--data", "/no/such/data.npy"])
    #expect(data.code == CommandFailure.noInput)
    #expect(data.message.contains("/no/such/data.npy"))
}

@Test func wrongDTypeFails() throws {
    let file = Paths.temporary("int-data.npy")
    try NPYWriter.write(Tensor(shape: [4, 1, 8, 8], int64s: [Int64](repeating: 1, count: 256)), to: file)
    let r = runMPQ(["eval", Paths.example("digits/model.onnx"), "--data", file.path])
    #expect(r.code == CommandFailure.dataError)
    #expect(r.message.contains("int-data.npy") && r.message.contains("input"))
    #expect(r.message.contains("<i8"))
    #expect(!r.message.contains("\n"))
}

@Test func wrongShapeFails() throws {
    let file = Paths.temporary("wrong-shape.npy")
    try NPYWriter.write(Tensor(shape: [4, 1, 16, 16], floats: [Float](repeating: 0, count: 1024)), to: file)
    let r = runMPQ(["eval", Paths.example("digits/model.onnx"), "--data", file.path])
    #expect(r.code == CommandFailure.dataError)
    #expect(r.message.contains("wrong-shape.npy"))
    #expect(r.message.contains("[4, 1, 16, 16]"))
    #expect(r.message.contains("8, 8"))
}

@Test func missingInputNameFails() {
    let r = runMPQ(["eval", Paths.example("digits/model.onnx"), "--data", "pixels=" + Paths.example("digits/val.npy")])
    #expect(r.code == CommandFailure.dataError)
    #expect(r.message.contains("'pixels'") && r.message.contains("input"))
}

@Test func labelsOfWrongLengthFail() {
    let r = runMPQ(["eval", Paths.example("digits/model.onnx"), "--data", Paths.example("digits/val.npy"),
                    "--labels", Paths.example("digits/calib_labels.npy")])
    #expect(r.code == CommandFailure.dataError)
    #expect(r.message.contains("calib_labels.npy"))
}

import Foundation
@testable import MPQCommands
import Testing

/// `mpq quantize` on the digits CNN: W8A8 stays close to FP32, W4A4 (per-channel) min-max is worse than
/// LAPQ layer-wise clipping, and the steps file holds every quantizer.
///
/// Per-channel, because per-tensor W4A4 on digits does not separate the two: min-max comes out ahead
/// (calibration loss 0.060 vs 0.078 with biases on their deployed int32 grid, 0.061 vs 0.073 with float
/// biases); per-channel, layer-wise clipping wins clearly (0.044 vs 0.068).
@Test func quantizeReportsAndWritesSteps() throws {
    let steps = Paths.temporary("digits-steps.json")
    func run(_ bits: String, _ method: String, _ extra: [String] = []) throws -> QuantizeReport {
        let r = runMPQ(["quantize", Paths.example("digits/model.onnx"), "--calib", Paths.example("digits/calib.npy"),
                        "--labels", Paths.example("digits/calib_labels.npy"), "--val", Paths.example("digits/val.npy"),
                        "--val-labels", Paths.example("digits/val_labels.npy"), "--bits", bits, "--method", method,
                        "-o", steps.path, "--json"] + extra)
        #expect(r.code == 0, "\(r.message)")
        let file = try JSONDecoder().decode(StepsFile.self, from: Data(contentsOf: steps))
        #expect(file.bits == bits)
        #expect(file.quantizers.contains { $0.role == "weight" } && file.quantizers.contains { $0.role == "activation" })
        return try QuantizeCommand.lastReport.get()
    }
    let w8 = try run("W8A8", "mmse")
    let fp32 = try #require(w8.validation?.fp32.accuracy)
    #expect(abs(try #require(w8.validation?.quantized.accuracy) - fp32) <= 0.01)
    let minmax = try run("W4A4", "minmax", ["--per-channel"])
    let layerwise = try run("W4A4", "lapq-layerwise", ["--per-channel"])
    #expect(layerwise.calibration.quantized.loss <= minmax.calibration.quantized.loss)
    #expect(layerwise.search.sweep.count == 10)
}

@Test func quantizeRejectsBadBits() {
    let r = runMPQ(["quantize", Paths.example("digits/model.onnx"), "--calib", Paths.example("digits/calib.npy"), "--bits", "W1A8"])
    #expect(r.code == 64)
    #expect(r.message.contains("W1A8"))
}

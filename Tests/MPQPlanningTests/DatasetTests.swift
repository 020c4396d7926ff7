import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQPlanning
import Testing

/// Inputs that share a named dimension (the tiny BERT's `seq` on token ids and attention mask) must give it one size;
/// the error names the file, both inputs and both sizes, where the model would fail at its first attention Softmax.
@Test func inputsThatShareANamedDimensionMustAgree() throws {
    let tiny = Paths.example("minilm/tiny")
    let graph = try LoadedModel(path: tiny + "/model-opset17.onnx").graph
    let ids = "input_ids=\(tiny)/input_ids.npy", mask = "\(tiny)/attention_mask.npy"
    let full = try NumpyArray(contentsOf: URL(fileURLWithPath: mask)).tensor
    #expect(full.shape == [8, 24])
    let short = Paths.temporary("dataset").appendingPathComponent("short-mask.npy")
    try NPYWriter.write(Tensor(shape: [8, 16], int64s: (0..<8).flatMap { r in full.asInt64s[(r * 24)..<(r * 24 + 16)] }), to: short)
    #expect(try Dataset(arguments: [ids, "attention_mask=\(mask)"], graph: graph).sampleCount == 8)
    #expect {
        try Dataset(arguments: [ids, "attention_mask=\(short.path)"], graph: graph)
    } throws: { error in
        "\(error)" == "\(short.path): input 'attention_mask' has seq = 16 (axis 1) but input 'input_ids' has seq = 24; "
            + "inputs that share the dimension 'seq' must agree"
    }
}

/// A sequence longer than the model's position embeddings fails at compile time with the input sizes named.
@Test func aShapeErrorNamesTheChosenInputSizes() throws {
    let graph = try LoadedModel(path: Paths.example("minilm/tiny/model-opset17.onnx")).graph
    #expect(throws: Never.self) { try ExecutionPlan(graph: graph, inputShapes: ["input_ids": [2, 24], "attention_mask": [2, 24]]) }
    #expect {
        try ExecutionPlan(graph: graph, inputShapes: ["input_ids": [2, 600], "attention_mask": [2, 600]])
    } throws: { error in
        "\(error)".hasSuffix("(inputs: input_ids [2, 600], attention_mask [2, 600]; does the model accept these sizes?)")
    }
}

import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQONNX
import Testing

/// The committed tiny random-weight BERT (all-MiniLM-L6-v2's structure: embeddings, attention with a mask,
/// GELU, LayerNorm, mean pooling, L2 normalisation) in both exporter forms reproduces ONNX Runtime's sentence
/// embeddings: cosine ≥ 0.99999 for every sentence, and within 1e-4 element-wise.
@Test(arguments: [17, 18])
func tinyBERTMatchesONNXRuntime(opset: Int) throws {
    let dir = TestPaths.example("minilm").appendingPathComponent("tiny")
    let model = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model-opset\(opset).onnx"))
    #expect(model.graph.opsetVersion == opset)
    let (graph, report) = try model.optimizedGraph()
    // Every erf GELU and every attention Softmax's scale and mask are fused, in both exporters' forms.
    let erfs = model.graph.nodes.filter { $0.opType == "Erf" }.count
    #expect(erfs > 0 && report.fusedGelus == erfs)
    #expect(report.fusedSoftmaxInputs == model.graph.nodes.filter { $0.opType == "Softmax" }.count)
    #expect(!graph.nodes.contains { $0.opType == "Erf" })
    // Each attention layer's Q, Kᵀ and V are read by their MatMuls in place: only the context's Transpose is left.
    let transposes = model.graph.nodes.filter { $0.opType == "Transpose" }.count
    #expect(report.fusedTransposes == transposes * 3 / 4)
    #expect(report.fusedBiases == model.graph.nodes.filter { $0.opType == "MatMul" }.count - 2 * erfs)
    // Both residual Adds of every layer, and the embeddings' sum, are summed inside their LayerNorms.
    #expect(report.fusedResiduals == 2 * erfs + 1)
    let archive = try NumpyArchive(contentsOf: dir.appendingPathComponent("inputs.npz"))
    var inputs: [String: Tensor] = [:]
    for input in graph.inputs {
        inputs[input.name] = try archive.array(named: input.name).validated(against: input)
        #expect(inputs[input.name]?.elementType == .int64)
    }
    let plan = try ExecutionPlan(graph: graph, inputShapes: inputs.mapValues(\.shape))
    // Shape arithmetic on the inputs is folded when the plan is compiled: no Shape node runs.
    #expect(!plan.nodes.contains { $0.node.opType == "Shape" })
    let embedding = try #require(try plan.run(inputs).outputs[graph.outputs[0].name])
    let reference = try NumpyArray(contentsOf: dir.appendingPathComponent("reference_embedding_opset\(opset).npy")).tensor
    #expect(embedding.shape == reference.shape)
    let a = embedding.asFloats, b = reference.asFloats
    let width = reference.shape[1]
    for row in 0..<reference.shape[0] {
        let x = a[row * width..<(row + 1) * width], y = b[row * width..<(row + 1) * width]
        let dot = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let norms = sqrt(x.reduce(0.0) { $0 + Double($1 * $1) }) * sqrt(y.reduce(0.0) { $0 + Double($1 * $1) })
        #expect(dot / norms >= 0.99999, "sentence \(row): cosine \(dot / norms)")
    }
    let maxError = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    #expect(maxError <= 1e-4, "max |mpq − ORT| \(maxError)")
    // The standard graph the exporters write computes the same bits.
    let unfused = GraphOptimizer.unfuse(graph)
    #expect(!unfused.nodes.contains { $0.domain == GraphOptimizer.internalDomain })
    let standard = try ExecutionPlan(graph: unfused, inputShapes: inputs.mapValues(\.shape))
    #expect(try standard.run(inputs).outputs[graph.outputs[0].name] == embedding)
}

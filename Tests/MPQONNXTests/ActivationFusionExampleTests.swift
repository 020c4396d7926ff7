import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQONNX
import Testing

/// Fusing the activations of the example models changes no output bit.
@Test(arguments: ["digits", "mobilenet-digits"])
func fusedExampleMatchesUnfused(_ example: String) throws {
    let dir = TestPaths.example(example)
    let model = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model.onnx"))
    let (fused, report) = try model.optimizedGraph()
    #expect(report.fusedActivations > 0)
    #expect(!fused.nodes.contains { ["Relu", "Clip"].contains($0.opType) })
    let unfused = GraphOptimizer.unfuseActivations(fused)
    #expect(unfused.nodes.count == fused.nodes.count + report.fusedActivations)
    let all = try NumpyArray(contentsOf: dir.appendingPathComponent("val.npy")).tensor
    let batch = all.slice(axis0: 0..<64)
    let name = fused.inputs[0].name
    let a = try ExecutionPlan(graph: fused, inputShapes: [name: batch.shape]).run([name: batch])
    let b = try ExecutionPlan(graph: unfused, inputShapes: [name: batch.shape]).run([name: batch])
    let out = fused.outputs[0].name
    #expect(try #require(a.outputs[out]) == (try #require(b.outputs[out])))
}

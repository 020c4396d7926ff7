import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQONNX
import Testing

/// One case of Fixtures/manifest.json: a small ONNX model with inputs and ONNX Runtime outputs.
struct FixtureCase: Decodable, CustomTestStringConvertible, Sendable {
    struct Value: Decodable, Sendable {
        var name: String
        var file: String
        var shape: [Int]
        /// NumPy dtype of the .npy file ("float32", "int64" or "bool").
        var dtype: String
    }
    var name: String
    var dir: String
    var opset: Int
    var inputs: [Value]
    var outputs: [Value]
    var ops: [String]

    /// The executor element type a manifest dtype loads as.
    static func elementType(_ dtype: String) -> ElementType? {
        ["float32": .float32, "int64": .int64, "bool": .bool][dtype]
    }

    var testDescription: String { "\(name) (opset \(opset): \(ops.joined(separator: ", ")))" }

    static let all: [FixtureCase] = {
        let url = TestPaths.fixtures.appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: url),
              let cases = try? JSONDecoder().decode([FixtureCase].self, from: data) else { return [] }
        return cases
    }()
}

@Test func manifestListsCases() {
    #expect(FixtureCase.all.count > 100)
}

/// Every fixture model, loaded, simplified and run, matches ONNX Runtime within 1e-4
/// (max abs error relative to the output's max abs value); int64 and bool outputs match exactly.
@Test(arguments: FixtureCase.all)
func fixtureMatchesONNXRuntime(_ fixture: FixtureCase) throws {
    let dir = TestPaths.fixtures.appendingPathComponent(fixture.dir)
    let model = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model.onnx"))
    #expect(model.graph.opsetVersion == fixture.opset)
    let (graph, _) = try model.optimizedGraph()
    var inputs: [String: Tensor] = [:]
    for input in fixture.inputs {
        let tensor = try NumpyArray(contentsOf: dir.appendingPathComponent(input.file)).tensor
        #expect(tensor.elementType == FixtureCase.elementType(input.dtype), "\(input.name) dtype \(input.dtype)")
        inputs[input.name] = tensor
    }
    let plan = try ExecutionPlan(graph: graph, inputShapes: inputs.mapValues(\.shape))
    let result = try plan.run(inputs)
    for output in fixture.outputs {
        let expected = try NumpyArray(contentsOf: dir.appendingPathComponent(output.file)).tensor
        let actual = try #require(result.outputs[output.name])
        #expect(actual.shape == expected.shape, "\(output.name) shape")
        #expect(actual.elementType == expected.elementType, "\(output.name) element type")
        #expect(expected.elementType == FixtureCase.elementType(output.dtype), "\(output.name) dtype \(output.dtype)")
        guard actual.shape == expected.shape else { continue }
        if expected.elementType == .float32 {
            let error = relativeMaxError(actual, expected)
            #expect(error <= 1e-4, "\(fixture.name): \(output.name) relative max error \(error)")
        } else {
            #expect(actual == expected, "\(fixture.name): \(output.name) differs from ONNX Runtime")
        }
    }
}

/// Unoptimized graphs give the same answers as optimized ones (folding changes nothing observable).
@Test(arguments: FixtureCase.all.filter { ["conv_bn_relu", "gemm_bn", "constant_subgraph", "identity_dropout_chain", "small_cnn_o21"].contains($0.name) })
func foldingPreservesOutputs(_ fixture: FixtureCase) throws {
    let dir = TestPaths.fixtures.appendingPathComponent(fixture.dir)
    let model = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model.onnx"))
    let (optimized, report) = try model.optimizedGraph()
    if fixture.name != "small_cnn_o21" {
        #expect(optimized.nodes.count < model.graph.nodes.count, "\(report)")
    }
    var inputs: [String: Tensor] = [:]
    for input in fixture.inputs {
        inputs[input.name] = try NumpyArray(contentsOf: dir.appendingPathComponent(input.file)).tensor
    }
    let shapes = inputs.mapValues(\.shape)
    let raw = try ExecutionPlan(graph: model.graph, inputShapes: shapes).run(inputs)
    let folded = try ExecutionPlan(graph: optimized, inputShapes: shapes).run(inputs)
    for output in fixture.outputs {
        let error = relativeMaxError(try #require(folded.outputs[output.name]), try #require(raw.outputs[output.name]))
        #expect(error <= 1e-5)
    }
}

@Test func batchNormIsFoldedIntoConvAndGemm() throws {
    for name in ["conv_bn_relu", "gemm_bn"] {
        let model = try ONNXModel.load(contentsOf: TestPaths.fixtures.appendingPathComponent(name).appendingPathComponent("model.onnx"))
        let (graph, report) = try model.optimizedGraph()
        #expect(report.foldedBatchNorms == 1, "\(name)")
        #expect(!graph.nodes.contains { $0.opType == "BatchNormalization" }, "\(name)")
    }
}

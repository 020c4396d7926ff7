import Foundation
import MPQExecutor
import MPQGraph
import MPQONNX
import Testing

private func malformed(_ name: String) -> URL {
    TestPaths.fixtures.appendingPathComponent("malformed").appendingPathComponent(name)
}

private func loadError(_ url: URL) -> Error? {
    do {
        let model = try ONNXModel.load(contentsOf: url)
        let (graph, _) = try model.optimizedGraph()
        _ = try ExecutionPlan(graph: graph, inputShapes: ONNXModel.concreteShapes(of: graph, batch: 1).get())
        return nil
    } catch {
        return error
    }
}

@Test func truncatedFileIsRejected() throws {
    let error = try #require(loadError(malformed("truncated.onnx")))
    let text = String(describing: error)
    #expect(text.contains("truncated.onnx"))
    #expect(text.contains("not a valid ONNX model"))
    #expect(!text.contains("\n"))
}

@Test func textFileIsRejected() throws {
    let error = try #require(loadError(malformed("not-onnx.onnx")))
    #expect(String(describing: error).contains("not-onnx.onnx: not a valid ONNX model"))
}

@Test func emptyFileIsRejected() throws {
    let error = try #require(loadError(malformed("empty.onnx")))
    #expect(String(describing: error).contains("the file is empty"))
}

@Test func missingFileIsReported() throws {
    let error = try #require(loadError(malformed("no-such-model.onnx")))
    #expect(error as? ONNXError == .fileNotFound(path: malformed("no-such-model.onnx").path))
    #expect(String(describing: error).contains("no such file"))
}

@Test func unsupportedOperatorNamesNodeOpAndOpset() throws {
    let error = try #require(loadError(malformed("unsupported-op.onnx")))
    let text = String(describing: error)
    guard case .unsupportedOperator(_, let opType, _, let opset, let supported)? = error as? GraphError else {
        Issue.record("expected an unsupported-operator error, got \(text)")
        return
    }
    #expect(["NonMaxSuppression", "TopK"].contains(opType))
    #expect(opset == 13)
    #expect(supported.contains("Conv"))
    #expect(text.contains("is not supported; supported operators: "))
}

@Test func missingExternalDataFileIsReported() throws {
    let error = try #require(loadError(malformed("missing-external-data.onnx")))
    let text = String(describing: error)
    #expect(text.contains("missing-weights.bin"))
    #expect(text.contains("no such file"))
}

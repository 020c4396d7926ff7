import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQONNX
import Testing

/// Load-time shape folding in `ExecutionPlan`: shape computations on graph inputs become
/// constants for the compiled input shapes, and nothing that reads the plan notices.
@Suite struct ShapeFoldingTests {
    /// The `shape_fold_reshape` fixture: Shape → Gather → Unsqueeze → Concat → Reshape of input x.
    func fixture() throws -> (Graph, [String: Tensor], Tensor) {
        let dir = TestPaths.fixtures.appendingPathComponent("shape_fold_reshape")
        let model = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model.onnx"))
        let (graph, _) = try model.optimizedGraph()
        let x = try NumpyArray(contentsOf: dir.appendingPathComponent("input_0.npy")).tensor
        let expected = try NumpyArray(contentsOf: dir.appendingPathComponent("output_0.npy")).tensor
        return (graph, ["x": x], expected)
    }

    @Test func shapeChainFoldsToConstants() throws {
        let (graph, inputs, expected) = try fixture()
        #expect(graph.nodes.map(\.opType) == ["Shape", "Gather", "Unsqueeze", "Gather", "Unsqueeze", "Concat", "Reshape"],
                "the optimizer alone cannot fold shapes")
        let plan = try ExecutionPlan(graph: graph, inputShapes: ["x": [2, 6, 8]])
        // Only the Reshape runs; its target shape is the constant [B, S, 2, -1].
        #expect(plan.nodes.map(\.node.opType) == ["Reshape"])
        #expect(plan.constant(named: "target") == Tensor(shape: [4], int64s: [2, 6, 2, -1]))
        #expect(plan.isFolded("shp") && plan.isFolded("dim1") && plan.isFolded("target"))
        #expect(!plan.isFolded("x") && !plan.isFolded("y"))
        #expect(plan.type(of: "y") == TensorType(.float32, [2, 6, 2, 4]))
        let y = try #require(try plan.run(inputs).outputs["y"])
        #expect(y == expected, "ONNX Runtime's answer")
        // Another batch size folds to another constant.
        let plan3 = try ExecutionPlan(graph: graph, inputShapes: ["x": [3, 6, 8]])
        #expect(plan3.constant(named: "target")?.int64s == [3, 6, 2, -1])
        // Folded nodes are not layers and not re-run.
        #expect(plan.layerStatistics().map(\.opType) == ["Reshape"])
        #expect(plan.downstreamNodes(of: ["x"]).count == 1)
        #expect(plan.downstreamNodes(of: ["target"]).count == 1)
    }

    @Test func cacheAndRerunWorkWithFoldedValues() throws {
        let (graph, inputs, expected) = try fixture()
        let plan = try ExecutionPlan(graph: graph, inputShapes: ["x": [2, 6, 8]])
        let full = try plan.run(inputs, retain: .all)
        let cache = try #require(full.cache)
        #expect(cache.value(named: "target")?.int64s == [2, 6, 2, -1])
        // Doubling x through a hook and re-running from the cache doubles y.
        let hooks = TensorHooks(["x": { Tensor(shape: $0.shape, floats: $0.floats!.map { $0 * 2 }) }])
        let rerun = try plan.rerun(from: cache, changed: ["x"], hooks: hooks)
        #expect(rerun.outputs["y"]?.floats == expected.floats!.map { $0 * 2 })
        #expect(cache.value(named: "shp")?.int64s == [2, 6, 8])
        #expect(cache.value(named: "dim0")?.int64s == [2])
    }

    /// A weight read through a node (W → Transpose → MatMul) is not folded by the plan, so a
    /// hook on W (fake quantization) still changes the product.
    @Test func weightsReadThroughNodesAreNotFolded() throws {
        func info(_ n: String, _ s: [Int]) -> ValueInfo {
            ValueInfo(name: n, elementType: .float32, declaredTypeName: "float", shape: s.map { .fixed($0) })
        }
        let w = Tensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6])
        let graph = Graph(nodes: [Node(name: "t", opType: "Transpose", inputs: ["W"], outputs: ["WT"]),
                                  Node(name: "mm", opType: "MatMul", inputs: ["x", "WT"], outputs: ["y"])],
                          initializers: ["W": w], inputs: [info("x", [1, 2])], outputs: [info("y", [1, 3])],
                          opsetVersion: 17)
        let plan = try ExecutionPlan(graph: graph, inputShapes: ["x": [1, 2]])
        #expect(plan.nodes.map(\.node.opType) == ["Transpose", "MatMul"])
        let x = Tensor(shape: [1, 2], floats: [1, 1])
        #expect(try plan.run(["x": x]).outputs["y"]?.floats == [3, 7, 11])
        let zeroed = TensorHooks(["W": { Tensor.zeros($0.shape) }])
        #expect(try plan.run(["x": x], hooks: zeroed).outputs["y"]?.floats == [0, 0, 0])
    }

    /// Int64 graph inputs keep their element type from the graph through the plan.
    @Test func int64InputsRunEndToEnd() throws {
        let dir = TestPaths.fixtures.appendingPathComponent("range_int64_from_shape")
        let model = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model.onnx"))
        let (graph, _) = try model.optimizedGraph()
        let ids = try NumpyArray(contentsOf: dir.appendingPathComponent("input_0.npy")).tensor
        let plan = try ExecutionPlan(graph: graph, inputShapes: ["ids": ids.shape])
        #expect(plan.type(of: "ids")?.elementType == .int64)
        #expect(plan.nodes.map(\.node.opType) == ["Add"], "Shape, Gather, Range and Unsqueeze fold")
        let y = try #require(try plan.run(["ids": ids]).outputs["y"])
        #expect(y.int64s == zip(ids.int64s!, (0..<14).map { Int64($0 % 7) }).map { $0 + $1 })
        #expect(throws: ExecutionError.self) { try plan.run(["ids": Tensor.zeros(ids.shape)]) }
    }
}

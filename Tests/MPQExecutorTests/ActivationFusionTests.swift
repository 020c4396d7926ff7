import Testing
import MPQGraph
import MPQExecutor

/// Activation fusion (GraphOptimizer+ActivationFusion): fused graphs compute exactly what the
/// unfused ones do, for every activation kind and every host layer.
private struct FusionRand {
    var state: UInt64
    mutating func floats(_ n: Int) -> [Float] {
        (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 23) - 1) * 3
        }
    }
}

private func info(_ name: String, _ shape: [Int]) -> ValueInfo {
    ValueInfo(name: name, elementType: .float32, declaredTypeName: "float", shape: shape.map { .fixed($0) })
}

/// The activation node `act` reading `x` and writing `y`, plus any initializers it needs.
private func activationNode(_ kind: String, opset: Int, x: String, y: String) -> (Node, [String: Tensor]) {
    switch kind {
    case "LeakyRelu": return (Node(name: "act", opType: kind, inputs: [x], outputs: [y], attributes: ["alpha": .float(0.1)]), [:])
    case "HardSigmoid":
        return (Node(name: "act", opType: kind, inputs: [x], outputs: [y], attributes: ["alpha": .float(0.3), "beta": .float(0.4)]), [:])
    case "Clip" where opset < 11:
        return (Node(name: "act", opType: kind, inputs: [x], outputs: [y], attributes: ["min": .float(-0.5), "max": .float(2)]), [:])
    case "Clip":
        return (Node(name: "act", opType: kind, inputs: [x, "lo", "hi"], outputs: [y]),
                ["lo": Tensor.scalar(0), "hi": Tensor.scalar(6)])
    default: return (Node(name: "act", opType: kind, inputs: [x], outputs: [y]), [:])
    }
}

/// A graph `x -> layer -> activation -> Relu? -> y`; the trailing Sigmoid keeps the activation's
/// output internal so fusion is exercised also when the activation is not a graph output.
private func layerGraph(_ layer: String, _ kind: String, opset: Int = 13, bias: Bool = true) -> (Graph, [String: Tensor]) {
    var rand = FusionRand(state: 42)
    var initializers: [String: Tensor] = [:]
    let layerNode: Node, xShape: [Int]
    switch layer {
    case "Conv", "DepthwiseConv":
        let depthwise = layer == "DepthwiseConv"
        xShape = [2, 4, 7, 6]
        let wShape = depthwise ? [8, 1, 3, 3] : [5, 4, 3, 3]
        initializers["w"] = Tensor(shape: wShape, floats: rand.floats(wShape.reduce(1, *)))
        if bias { initializers["b"] = Tensor(shape: [wShape[0]], floats: rand.floats(wShape[0])) }
        layerNode = Node(name: "layer", opType: "Conv", inputs: bias ? ["x", "w", "b"] : ["x", "w"], outputs: ["z"],
                         attributes: ["pads": .ints([1, 1, 1, 1]), "group": .int(depthwise ? 4 : 1)])
    case "PointwiseConv":
        xShape = [3, 6, 5, 5]
        initializers["w"] = Tensor(shape: [7, 6, 1, 1], floats: rand.floats(42))
        if bias { initializers["b"] = Tensor(shape: [7], floats: rand.floats(7)) }
        layerNode = Node(name: "layer", opType: "Conv", inputs: bias ? ["x", "w", "b"] : ["x", "w"], outputs: ["z"])
    case "Gemm":
        xShape = [5, 9]
        initializers["w"] = Tensor(shape: [11, 9], floats: rand.floats(99))
        if bias { initializers["b"] = Tensor(shape: [11], floats: rand.floats(11)) }
        layerNode = Node(name: "layer", opType: "Gemm", inputs: bias ? ["x", "w", "b"] : ["x", "w"], outputs: ["z"],
                         attributes: ["transB": .int(1)])
    default:
        xShape = [2, 3, 8]
        initializers["w"] = Tensor(shape: [8, 6], floats: rand.floats(48))
        layerNode = Node(name: "layer", opType: "MatMul", inputs: ["x", "w"], outputs: ["z"])
    }
    let (act, extra) = activationNode(kind, opset: opset, x: "z", y: "a")
    initializers.merge(extra) { a, _ in a }
    let tail = Node(name: "tail", opType: "Relu", inputs: ["a"], outputs: ["y"])
    let graph = Graph(nodes: [layerNode, act, tail], initializers: initializers,
                      inputs: [info("x", xShape)], outputs: [info("y", [])], opsetVersion: opset)
    return (graph, ["x": Tensor(shape: xShape, floats: rand.floats(xShape.reduce(1, *)))])
}

private func run(_ graph: Graph, _ inputs: [String: Tensor]) throws -> Tensor {
    let plan = try ExecutionPlan(graph: graph, inputShapes: inputs.mapValues(\.shape))
    return try #require(try plan.run(inputs).outputs[graph.outputs[0].name])
}

private let kinds = ["Relu", "Clip", "LeakyRelu", "HardSigmoid", "HardSwish", "Sigmoid", "Tanh"]
private let layers = ["Conv", "DepthwiseConv", "PointwiseConv", "Gemm", "MatMul"]

@Test(arguments: layers, kinds)
func fusedActivationMatchesUnfused(_ layer: String, _ kind: String) throws {
    for bias in [true, false] {
        let (graph, inputs) = layerGraph(layer, kind, bias: bias)
        let (fused, report) = try GraphOptimizer().optimize(graph)
        #expect(report.fusedActivations == 1)
        #expect(fused.nodes.map(\.opType) == [layer.hasSuffix("Conv") ? "Conv" : layer, "Relu"])
        #expect(fused.nodes[0].outputs == ["a"])
        let activation = try #require(fused.nodes[0].fusedActivation)
        #expect(activation.opType == kind)
        #expect(fused.initializers["lo"] == nil && fused.initializers["hi"] == nil)
        let reference = try run(graph, inputs)
        #expect(try run(fused, inputs) == reference)
        // Un-fusing restores a standard graph with the same result.
        let unfused = GraphOptimizer.unfuseActivations(fused)
        #expect(unfused.nodes.map(\.opType) == [layer.hasSuffix("Conv") ? "Conv" : layer, kind, "Relu"])
        #expect(unfused.nodes.allSatisfy { $0.fusedActivation == nil })
        #expect(try run(unfused, inputs) == reference)
    }
}

@Test func clipBeforeOpset11IsFused() throws {
    let (graph, inputs) = layerGraph("Conv", "Clip", opset: 10)
    let (fused, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedActivations == 1)
    #expect(fused.nodes[0].fusedActivation?.params == [-0.5, 2])
    #expect(try run(fused, inputs) == (try run(graph, inputs)))
    #expect(try run(GraphOptimizer.unfuseActivations(fused), inputs) == (try run(graph, inputs)))
}

@Test func activationIsNotFusedWhenThePreActivationValueIsVisible() throws {
    // The layer output is a graph output.
    var (graph, inputs) = layerGraph("Conv", "Relu")
    graph.outputs.append(info("z", []))
    var (optimized, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedActivations == 0)
    #expect(optimized.nodes.count == 3)
    // The layer output has a second reader.
    (graph, inputs) = layerGraph("Gemm", "Relu")
    graph.nodes.append(Node(name: "other", opType: "Tanh", inputs: ["z"], outputs: ["t"]))
    graph.outputs.append(info("t", []))
    (optimized, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedActivations == 0)
    #expect(try run(optimized, inputs) == (try run(graph, inputs)))
    // Clip with a run-time bound.
    (graph, inputs) = layerGraph("MatMul", "Clip")
    graph.initializers["hi"] = nil
    graph.inputs.append(info("hi", []))
    (optimized, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedActivations == 0)
}

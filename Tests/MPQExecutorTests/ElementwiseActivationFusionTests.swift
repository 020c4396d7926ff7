import Testing
import MPQGraph
import MPQExecutor
import MPQKernels

/// Activations fused into float Add, Sub, Mul and Div (a residual block's `Relu(x + conv(x))`): the fused graph
/// computes exactly the floats of the two separate operators, in place or not, broadcast or not, on one or two threads.
private func floats(_ n: Int, seed: UInt64) -> [Float] {
    var state = seed
    return (0..<n).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return (Float(state >> 40) / Float(1 << 23) - 1) * 2
    }
}

private func info(_ name: String, _ shape: [Int], _ type: ElementType = .float32) -> ValueInfo {
    ValueInfo(name: name, elementType: type, declaredTypeName: type == .float32 ? "float" : "int64",
              shape: shape.map { .fixed($0) })
}

/// `y = act(conv(x) ∘ other)`, where `other` is the input `x` itself (same shape: the result overwrites the dead
/// convolution output) or a per-channel initializer (broadcast: a new array). 16×48² planes × 2 images exceed both
/// the activation's piece and the element-wise parallel grain.
private func residualGraph(_ op: String, _ activation: String, broadcast: Bool) -> (Graph, [String: Tensor]) {
    let shape = [2, 16, 48, 48]
    var initializers = ["w": Tensor(shape: [16, 16, 3, 3], floats: floats(16 * 16 * 9, seed: 3).map { $0 / 8 })]
    var nodes = [Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["c"], attributes: ["pads": .ints([1, 1, 1, 1])])]
    let other = broadcast ? "k" : "x"
    if broadcast { initializers["k"] = Tensor(shape: [16, 1, 1], floats: floats(16, seed: 5).map { $0 + 3 }) }
    nodes.append(Node(name: "binary", opType: op, inputs: ["c", other], outputs: ["s"]))
    if activation == "Clip" {
        initializers["lo"] = Tensor.scalar(-0.25)
        initializers["hi"] = Tensor.scalar(1.5)
        nodes.append(Node(name: "act", opType: "Clip", inputs: ["s", "lo", "hi"], outputs: ["y"]))
    } else {
        nodes.append(Node(name: "act", opType: activation, inputs: ["s"], outputs: ["y"]))
    }
    let graph = Graph(nodes: nodes, initializers: initializers, inputs: [info("x", shape)], outputs: [info("y", shape)],
                      opsetVersion: 13)
    return (graph, ["x": Tensor(shape: shape, floats: floats(shape.reduce(1, *), seed: 7))])
}

private func run(_ graph: Graph, _ inputs: [String: Tensor], threads: Int = 1) throws -> Tensor {
    let saved = KernelThreads.count
    defer { KernelThreads.count = saved }
    KernelThreads.count = threads
    let plan = try ExecutionPlan(graph: graph, inputShapes: inputs.mapValues(\.shape))
    return try #require(try plan.run(inputs).outputs["y"])
}

@Test(arguments: ["Add", "Sub", "Mul", "Div"], ["Relu", "Clip", "Sigmoid"])
func activationFusedIntoElementwiseMatchesSeparateOperators(_ op: String, _ activation: String) throws {
    for broadcast in [false, true] {
        let (graph, inputs) = residualGraph(op, activation, broadcast: broadcast)
        let (fused, report) = try GraphOptimizer().optimize(graph)
        #expect(report.fusedActivations == 1)
        #expect(fused.nodes.map(\.opType) == ["Conv", op])
        #expect(fused.nodes[1].outputs == ["y"] && fused.nodes[1].fusedActivation?.opType == activation)
        let reference = try run(graph, inputs)
        for threads in [1, 2] { #expect(try run(fused, inputs, threads: threads) == reference) }
        let unfused = GraphOptimizer.unfuse(fused)
        #expect(unfused.nodes.map(\.opType) == ["Conv", op, activation])
        #expect(try run(unfused, inputs) == reference)
    }
}

@Test func activationStaysApartFromIntegerArithmetic() throws {
    // int64 operands: the executor has no activation kernel for them, so the Relu keeps its own node.
    let graph = Graph(nodes: [Node(name: "add", opType: "Add", inputs: ["a", "b"], outputs: ["s"]),
                              Node(name: "relu", opType: "Relu", inputs: ["s"], outputs: ["y"])],
                      initializers: [:], inputs: [info("a", [3], .int64), info("b", [3], .int64)],
                      outputs: [info("y", [3], .int64)], opsetVersion: 14)
    let (optimized, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedActivations == 0)
    #expect(optimized.nodes.map(\.opType) == ["Add", "Relu"])
    // A hand-written node that asks for it anyway gets a clear error, not a wrong result.
    var forced = graph
    forced.nodes = [Node(name: "add", opType: "Add", inputs: ["a", "b"], outputs: ["y"],
                         attributes: [Node.fusedActivationKey: .string("Relu")])]
    #expect(throws: (any Error).self) { try ExecutionPlan(graph: forced, inputShapes: ["a": [3], "b": [3]]) }
}

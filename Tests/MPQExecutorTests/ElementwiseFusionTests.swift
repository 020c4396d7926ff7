import Foundation
import Testing
import MPQGraph
import MPQExecutor

/// GELU and Softmax-input fusion (GraphOptimizer): the fused graph computes exactly what the
/// unfused one does, and `GraphOptimizer.unfuse` gives back standard nodes with the same result.
private struct Rand {
    var state: UInt64
    mutating func floats(_ n: Int, scale: Float = 3) -> [Float] {
        (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 23) - 1) * scale
        }
    }
}

private func info(_ name: String, _ shape: [Int]) -> ValueInfo {
    ValueInfo(name: name, elementType: .float32, declaredTypeName: "float", shape: shape.map { .fixed($0) })
}

private func run(_ graph: Graph, _ inputs: [String: Tensor], threads: Int = 1) throws -> Tensor {
    let plan = try ExecutionPlan(graph: graph, inputShapes: inputs.mapValues(\.shape))
    return try #require(try plan.run(inputs).outputs[graph.outputs[0].name])
}

/// `x -> GELU (five nodes, the given grouping) -> Tanh -> y`, over 3×37 values (37: not a whole number of vectors).
private func geluGraph(grouping: Int, divides: Bool) -> (Graph, [String: Tensor]) {
    var nodes = [
        Node(name: "act/Div", opType: divides ? "Div" : "Mul", inputs: ["x", "c"], outputs: ["t"]),
        Node(name: "act/Erf", opType: "Erf", inputs: ["t"], outputs: ["e"]),
        Node(name: "act/Add", opType: "Add", inputs: ["one", "e"], outputs: ["a"]),
    ]
    switch grouping {
    case 0:
        nodes += [Node(name: "m1", opType: "Mul", inputs: ["x", "a"], outputs: ["p"]),
                  Node(name: "m2", opType: "Mul", inputs: ["p", "half"], outputs: ["g"])]
    case 1:
        nodes += [Node(name: "m1", opType: "Mul", inputs: ["half", "a"], outputs: ["p"]),
                  Node(name: "m2", opType: "Mul", inputs: ["x", "p"], outputs: ["g"])]
    default:
        nodes.insert(Node(name: "m0", opType: "Mul", inputs: ["x", "half"], outputs: ["p"]), at: 0)
        nodes += [Node(name: "m1", opType: "Mul", inputs: ["a", "p"], outputs: ["g"])]
    }
    nodes.append(Node(name: "tail", opType: "Tanh", inputs: ["g"], outputs: ["y"]))
    let c: Float = divides ? 1.4142135 : 0.70710677
    let graph = Graph(nodes: nodes, initializers: ["c": .scalar(c), "one": .scalar(1), "half": .scalar(0.5)],
                      inputs: [info("x", [3, 37])], outputs: [info("y", [])], opsetVersion: 17)
    var rand = Rand(state: 7)
    return (graph, ["x": Tensor(shape: [3, 37], floats: rand.floats(111, scale: 5))])
}

@Test(arguments: 0..<3, [true, false])
func fusedGeluMatchesTheFiveNodes(grouping: Int, divides: Bool) throws {
    let (graph, inputs) = geluGraph(grouping: grouping, divides: divides)
    let (fused, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedGelus == 1)
    #expect(fused.nodes.map(\.opType) == ["Gelu", "Tanh"])
    #expect(fused.nodes[0].domain == GraphOptimizer.internalDomain)
    #expect(fused.nodes[0].name == "act/Gelu")
    #expect(fused.nodes[0].inputs == ["x"] && fused.nodes[0].outputs == ["g"])
    let reference = try run(graph, inputs)
    #expect(try run(fused, inputs) == reference)
    // Against the closed form 0.5·x·(1 + erf(x/√2)), before the Tanh.
    let x = inputs["x"]!.asFloats, y = reference.asFloats
    for (xi, yi) in zip(x, y) {
        let exact = tanh(0.5 * Double(xi) * (1 + erf(Double(xi) / 2.0.squareRoot())))
        #expect(abs(Double(yi) - exact) < 2e-6, "x = \(xi)")
    }
    let unfused = GraphOptimizer.unfuse(fused)
    #expect(unfused.nodes.allSatisfy { $0.domain.isEmpty })
    #expect(unfused.nodes.map(\.opType).sorted() == graph.nodes.map(\.opType).sorted())
    #expect(try run(unfused, inputs) == reference)
}

@Test func geluIsNotFusedWhenAnIntermediateIsVisible() throws {
    var (graph, inputs) = geluGraph(grouping: 0, divides: true)
    graph.outputs.append(info("e", []))
    var (optimized, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedGelus == 0)
    // Only the tail Tanh is fused, into the last Mul (a float element-wise host).
    #expect(report.fusedActivations == 1 && optimized.nodes.count == graph.nodes.count - 1)
    #expect(try run(optimized, inputs) == (try run(graph, inputs)))
    (graph, inputs) = geluGraph(grouping: 1, divides: false)
    graph.nodes.append(Node(name: "other", opType: "Sigmoid", inputs: ["a"], outputs: ["s"]))
    graph.outputs.append(info("s", []))
    (optimized, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedGelus == 0)
    #expect(try run(optimized, inputs) == (try run(graph, inputs)))
    // A non-constant argument scale is not a GELU.
    (graph, inputs) = geluGraph(grouping: 0, divides: true)
    graph.initializers["c"] = nil
    graph.inputs.append(info("c", []))
    (_, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedGelus == 0)
}

/// Attention-style scores `s` (shape `scores`), scaled (Mul or Div by a constant, or not), masked (Add of `mask`,
/// or not), normalised by Softmax over `axis`, then Tanh.
private func softmaxGraph(scores: [Int], mask: [Int]?, scale: String?, maskFirst: Bool = false,
                          opset: Int = 17, axis: Int = -1) -> (Graph, [String: Tensor]) {
    var nodes: [Node] = []
    var current = "s"
    if let scale {
        nodes.append(Node(name: "scale", opType: scale, inputs: [current, "k"], outputs: ["scaled"]))
        current = "scaled"
    }
    if mask != nil {
        nodes.append(Node(name: "mask", opType: "Add", inputs: maskFirst ? ["m", current] : [current, "m"], outputs: ["masked"]))
        current = "masked"
    }
    nodes.append(Node(name: "softmax", opType: "Softmax", inputs: [current], outputs: ["p"], attributes: ["axis": .int(axis)]))
    nodes.append(Node(name: "tail", opType: "Tanh", inputs: ["p"], outputs: ["y"]))
    var rand = Rand(state: 11)
    var inputs = ["s": Tensor(shape: scores, floats: rand.floats(scores.reduce(1, *)))]
    var infos = [info("s", scores)]
    if let mask {
        // A BERT-style mask: 0 where attended, a large negative value elsewhere.
        inputs["m"] = Tensor(shape: mask, floats: rand.floats(mask.reduce(1, *)).map { $0 > 1 ? -10000 : 0 })
        infos.append(info("m", mask))
    }
    let graph = Graph(nodes: nodes, initializers: ["k": .scalar(0.17677669)], inputs: infos, outputs: [info("y", [])],
                      opsetVersion: opset)
    return (graph, inputs)
}

@Test(arguments: [
    ([2, 3, 5, 7], [2, 1, 1, 7], "Mul"),   // BERT: rows of 7 (not a whole vector), mask per sequence
    ([2, 3, 5, 7], [2, 1, 1, 7], "Div"),
    ([2, 3, 5, 20], [2, 3, 5, 1], "Mul"),  // mask broadcast along each row
    ([2, 3, 5, 20], [2, 1, 1, 20], nil),   // mask only
    ([3, 5, 7], [2, 1, 1, 7], "Mul"),      // the mask enlarges the scores' shape
] as [([Int], [Int], String?)])
func fusedSoftmaxInputsMatchTheSeparateNodes(scores: [Int], mask: [Int], scale: String?) throws {
    for maskFirst in [false, true] {
        let (graph, inputs) = softmaxGraph(scores: scores, mask: mask, scale: scale, maskFirst: maskFirst)
        let (fused, report) = try GraphOptimizer().optimize(graph)
        #expect(report.fusedSoftmaxInputs == 1)
        #expect(fused.nodes.map(\.opType) == ["Softmax", "Tanh"])
        #expect(fused.nodes[0].inputs == (scale == nil && maskFirst ? ["m", "s"] : ["s", "m"]))
        let reference = try run(graph, inputs)
        #expect(try run(fused, inputs) == reference)
        let unfused = GraphOptimizer.unfuse(fused)
        #expect(unfused.nodes.map(\.opType) == (scale.map { [$0] } ?? []) + ["Add", "Softmax", "Tanh"])
        #expect(unfused.nodes.allSatisfy { $0.attributes.keys.allSatisfy { !$0.hasPrefix("mpq_") } })
        #expect(try run(unfused, inputs) == reference)
    }
}

@Test func softmaxScaleAloneAndCoercedAxesAreFused() throws {
    // Scale only.
    var (graph, inputs) = softmaxGraph(scores: [4, 9, 13], mask: nil, scale: "Div")
    var (fused, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedSoftmaxInputs == 1)
    #expect(fused.nodes[0].inputs == ["s"])
    #expect(try run(fused, inputs) == (try run(graph, inputs)))
    // Opset 11 Softmax normalises the flattened [2, 3·5·7] rows: not the last axis alone, so the whole tensor is
    // scaled and masked first.
    (graph, inputs) = softmaxGraph(scores: [2, 3, 5, 7], mask: [2, 1, 1, 7], scale: "Mul", opset: 11, axis: 1)
    (fused, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedSoftmaxInputs == 1)
    #expect(try run(fused, inputs) == (try run(graph, inputs)))
    // Softmax along a middle axis (strided rows).
    (graph, inputs) = softmaxGraph(scores: [2, 6, 5], mask: [2, 1, 5], scale: "Mul", axis: 1)
    (fused, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedSoftmaxInputs == 1)
    #expect(try run(fused, inputs) == (try run(graph, inputs)))
    #expect(try run(GraphOptimizer.unfuse(fused), inputs) == (try run(graph, inputs)))
}

@Test func softmaxInputsAreNotFusedWhenVisible() throws {
    var (graph, _) = softmaxGraph(scores: [2, 3, 5, 7], mask: [2, 1, 1, 7], scale: "Mul")
    graph.outputs.append(info("masked", []))
    let (optimized, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedSoftmaxInputs == 0)
    #expect(optimized.nodes.map(\.opType) == ["Mul", "Add", "Softmax", "Tanh"])
}

/// `x [rows…, k] · W [k, n] + b [n]` (bias on either side of the Add), optionally followed by Relu, then Abs
/// (not an activation a layer absorbs).
private func linearGraph(x: [Int], n: Int, biasFirst: Bool, relu: Bool) -> (Graph, [String: Tensor]) {
    var rand = Rand(state: 5)
    let k = x.last!
    var nodes = [Node(name: "linear/MatMul", opType: "MatMul", inputs: ["x", "w"], outputs: ["p"]),
                 Node(name: "linear/Add", opType: "Add", inputs: biasFirst ? ["b", "p"] : ["p", "b"], outputs: ["z"])]
    if relu { nodes.append(Node(name: "relu", opType: "Relu", inputs: ["z"], outputs: ["r"])) }
    nodes.append(Node(name: "tail", opType: "Abs", inputs: [relu ? "r" : "z"], outputs: ["y"]))
    let graph = Graph(nodes: nodes,
                      initializers: ["w": Tensor(shape: [k, n], floats: rand.floats(k * n, scale: 0.2)),
                                     "b": Tensor(shape: [n], floats: rand.floats(n))],
                      inputs: [info("x", x)], outputs: [info("y", [])], opsetVersion: 17)
    return (graph, ["x": Tensor(shape: x, floats: rand.floats(x.reduce(1, *)))])
}

@Test(arguments: [[2, 3, 8], [5, 9], [600, 128], [2, 128, 300]])
func fusedMatMulBiasMatchesTheSeparateAdd(x: [Int]) throws {
    // [600, 128] · [128, 200] and [256, 300] · [300, 200] are cut into several blocks, each given its bias on its own.
    let n = x.count == 2 && x[0] > 100 ? 200 : (x.last! == 300 ? 200 : 6)
    for (biasFirst, relu) in [(false, false), (true, true)] {
        let (graph, inputs) = linearGraph(x: x, n: n, biasFirst: biasFirst, relu: relu)
        let (fused, report) = try GraphOptimizer().optimize(graph)
        #expect(report.fusedBiases == 1)
        #expect(report.fusedActivations == (relu ? 1 : 0))
        #expect(fused.nodes.map(\.opType) == ["MatMul", "Abs"])
        #expect(fused.nodes[0].inputs == ["x", "w", "b"])
        #expect(fused.nodes[0].outputs == [relu ? "r" : "z"])
        let reference = try run(graph, inputs)
        #expect(try run(fused, inputs) == reference)
        let unfused = GraphOptimizer.unfuse(fused)
        #expect(unfused.nodes.map(\.opType) == ["MatMul", "Add"] + (relu ? ["Relu"] : []) + ["Abs"])
        #expect(unfused.nodes[0].inputs.count == 2)
        #expect(try run(unfused, inputs) == reference)
    }
}

@Test func matMulBiasIsNotFusedWhenItIsNotOnePerColumn() throws {
    // A [1, n] bias, a product with a second reader, and a bias that is not a constant all stay separate.
    var (graph, inputs) = linearGraph(x: [4, 8], n: 6, biasFirst: false, relu: false)
    graph.initializers["b"] = graph.initializers["b"]!.reshaped([1, 6])
    #expect(try GraphOptimizer().optimize(graph).1.fusedBiases == 0)
    (graph, inputs) = linearGraph(x: [4, 8], n: 6, biasFirst: false, relu: false)
    graph.outputs.append(info("p", []))
    var (optimized, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedBiases == 0)
    #expect(try run(optimized, inputs) == (try run(graph, inputs)))
    (graph, inputs) = linearGraph(x: [4, 8], n: 6, biasFirst: false, relu: false)
    inputs["b"] = graph.initializers.removeValue(forKey: "b")
    graph.inputs.append(info("b", [6]))
    (optimized, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedBiases == 0)
    #expect(try run(optimized, inputs) == (try run(graph, inputs)))
}

/// Attention's per-head products on [batch, tokens, heads, width] projections: Q = q·(0,2,1,3), Kᵀ = k·(0,2,3,1),
/// V = v·(0,2,1,3); then (Q·Kᵀ)·V, and a 2-D product of two transposed matrices. Tokens 5 and width 7 make every
/// stride odd.
@Test func matMulReadsTransposedOperandsInPlace() throws {
    var rand = Rand(state: 13)
    let shape = [2, 5, 3, 7]
    let graph = Graph(nodes: [
        Node(name: "tq", opType: "Transpose", inputs: ["q"], outputs: ["Q"], attributes: ["perm": .ints([0, 2, 1, 3])]),
        Node(name: "tk", opType: "Transpose", inputs: ["k"], outputs: ["KT"], attributes: ["perm": .ints([0, 2, 3, 1])]),
        Node(name: "tv", opType: "Transpose", inputs: ["v"], outputs: ["V"], attributes: ["perm": .ints([0, 2, 1, 3])]),
        Node(name: "scores", opType: "MatMul", inputs: ["Q", "KT"], outputs: ["s"]),
        Node(name: "context", opType: "MatMul", inputs: ["s", "V"], outputs: ["c"]),
        Node(name: "ta", opType: "Transpose", inputs: ["x"], outputs: ["xt"], attributes: ["perm": .ints([1, 0])]),
        Node(name: "tb", opType: "Transpose", inputs: ["w"], outputs: ["wt"], attributes: ["perm": .ints([1, 0])]),
        Node(name: "plain", opType: "MatMul", inputs: ["xt", "wt"], outputs: ["p"]),
        Node(name: "tail", opType: "Abs", inputs: ["c"], outputs: ["y"]),
    ], initializers: [:], inputs: [info("q", shape), info("k", shape), info("v", shape), info("x", [6, 4]), info("w", [9, 6])],
    outputs: [info("y", []), info("p", [])], opsetVersion: 17)
    var inputs: [String: Tensor] = [:]
    for name in ["q", "k", "v"] { inputs[name] = Tensor(shape: shape, floats: rand.floats(shape.reduce(1, *))) }
    inputs["x"] = Tensor(shape: [6, 4], floats: rand.floats(24))
    inputs["w"] = Tensor(shape: [9, 6], floats: rand.floats(54))
    let (fused, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedTransposes == 5)
    #expect(!fused.nodes.contains { $0.opType == "Transpose" })
    func outputs(_ g: Graph) throws -> [Tensor?] {
        let plan = try ExecutionPlan(graph: g, inputShapes: inputs.mapValues(\.shape))
        let result = try plan.run(inputs).outputs
        return [result["y"], result["p"]]
    }
    let reference = try outputs(graph)
    #expect(reference.allSatisfy { $0 != nil })
    #expect(try outputs(fused) == reference)
    let unfused = GraphOptimizer.unfuse(fused)
    #expect(unfused.nodes.filter { $0.opType == "Transpose" }.count == 5)
    #expect(unfused.nodes.allSatisfy { $0.attributes.keys.allSatisfy { !$0.hasPrefix("mpq_") } })
    #expect(try outputs(unfused) == reference)
}

/// A transformer's `LayerNorm(x + r)`: the residual Add is summed inside the LayerNormalization, row by row (same
/// shapes) or first as a broadcast (r broadcast along rows), with and without the bias input.
@Test(arguments: [[3, 5, 7], [1, 7]], [true, false])
func residualAddFusedIntoLayerNormMatchesTheSeparateAdd(residual: [Int], bias: Bool) throws {
    var rand = Rand(state: 17)
    let x = [3, 5, 7]
    let graph = Graph(nodes: [
        Node(name: "residual", opType: "Add", inputs: ["x", "r"], outputs: ["s"]),
        Node(name: "norm", opType: "LayerNormalization", inputs: bias ? ["s", "scale", "bias"] : ["s", "scale"], outputs: ["n"],
             attributes: ["epsilon": .float(1e-5)]),
        Node(name: "tail", opType: "Abs", inputs: ["n"], outputs: ["y"]),
    ], initializers: ["scale": Tensor(shape: [7], floats: rand.floats(7)), "bias": Tensor(shape: [7], floats: rand.floats(7))],
    inputs: [info("x", x), info("r", residual)], outputs: [info("y", [])], opsetVersion: 17)
    let inputs = ["x": Tensor(shape: x, floats: rand.floats(105)), "r": Tensor(shape: residual, floats: rand.floats(residual.reduce(1, *)))]
    let (fused, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedResiduals == 1)
    #expect(fused.nodes.map(\.opType) == ["LayerNormalization", "Abs"])
    #expect(fused.nodes[0].inputs == ["x", "scale", bias ? "bias" : "", "r"])
    let reference = try run(graph, inputs)
    #expect(try run(fused, inputs) == reference)
    let unfused = GraphOptimizer.unfuse(fused)
    #expect(unfused.nodes.map(\.opType) == ["Add", "LayerNormalization", "Abs"])
    #expect(unfused.nodes[1].inputs.count == (bias ? 3 : 2))
    #expect(try run(unfused, inputs) == reference)
}

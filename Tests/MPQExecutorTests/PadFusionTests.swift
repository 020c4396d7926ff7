import Testing
import MPQGraph
import MPQExecutor

/// Pad fusion (GraphOptimizer+PadFusion): a zero Pad of the spatial axes folds into the next
/// Conv's pads, with the same results up to float rounding; other Pads are left alone.
private func info(_ name: String, _ shape: [Int]) -> ValueInfo {
    ValueInfo(name: name, elementType: .float32, declaredTypeName: "float", shape: shape.map { .fixed($0) })
}

private func floats(_ n: Int, seed: UInt64) -> [Float] {
    var state = seed
    return (0..<n).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 23) - 1
    }
}

/// `x -> Pad(pads) -> Conv(stride, group, convPads) -> y` on a 2×6×9×8 input.
private func padConvGraph(pads: [Int64], group: Int = 1, stride: Int = 2, convPads: [Int] = [0, 1, 1, 0],
                          mode: String = "constant", value: Float? = nil) -> (Graph, [String: Tensor]) {
    let cout = 6, cin = 6
    var initializers: [String: Tensor] = [
        "pads": Tensor(shape: [8], int64s: pads),
        "w": Tensor(shape: [cout, cin / group, 3, 3], floats: floats(cout * cin / group * 9, seed: 1)),
        "b": Tensor(shape: [cout], floats: floats(cout, seed: 2)),
    ]
    var padInputs = ["x", "pads"]
    if let value { initializers["v"] = Tensor.scalar(value); padInputs.append("v") }
    let pad = Node(name: "pad", opType: "Pad", inputs: padInputs, outputs: ["p"], attributes: ["mode": .string(mode)])
    let conv = Node(name: "conv", opType: "Conv", inputs: ["p", "w", "b"], outputs: ["y"],
                    attributes: ["strides": .ints([stride, stride]), "pads": .ints(convPads), "group": .int(group)])
    let graph = Graph(nodes: [pad, conv], initializers: initializers, inputs: [info("x", [2, 6, 9, 8])],
                      outputs: [info("y", [])], opsetVersion: 13)
    return (graph, ["x": Tensor(shape: [2, 6, 9, 8], floats: floats(2 * 6 * 9 * 8, seed: 3))])
}

private func run(_ graph: Graph, _ inputs: [String: Tensor]) throws -> Tensor {
    let plan = try ExecutionPlan(graph: graph, inputShapes: inputs.mapValues(\.shape))
    return try #require(try plan.run(inputs).outputs[graph.outputs[0].name])
}

@Test(arguments: [1, 2, 6], [1, 2])
func zeroPadFusesIntoConv(_ group: Int, _ stride: Int) throws {
    // Asymmetric TF-style "same" padding: more at the end than at the beginning.
    for (pads, value) in [([0, 0, 0, 1, 0, 0, 2, 1] as [Int64], nil as Float?), ([0, 0, 1, 0, 0, 0, 1, 3], 0)] {
        let (graph, inputs) = padConvGraph(pads: pads, group: group, stride: stride, value: value)
        let (fused, report) = try GraphOptimizer().optimize(graph)
        #expect(report.fusedPads == 1)
        #expect(fused.nodes.map(\.opType) == ["Conv"])
        #expect(fused.nodes[0].inputs[0] == "x")
        #expect(fused.initializers["pads"] == nil)
        let p = pads.map { Int($0) }
        #expect(try fused.nodes[0].ints("pads") == [0 + p[2], 1 + p[3], 1 + p[6], 0 + p[7]])
        // oneDNN may order a padded window's sum differently from the explicitly padded one.
        let a = try #require(try run(fused, inputs).floats), b = try #require(try run(graph, inputs).floats)
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 })
    }
}

@Test func padsThatCannotFuseStay() throws {
    // Non-zero value, reflect mode, channel padding and negative (cropping) pads.
    let cases: [(Graph, [String: Tensor])] = [
        padConvGraph(pads: [0, 0, 1, 1, 0, 0, 1, 1], value: 0.5),
        padConvGraph(pads: [0, 0, 1, 1, 0, 0, 1, 1], mode: "reflect"),
        padConvGraph(pads: [0, 1, 1, 1, 0, 0, 1, 1]),
        padConvGraph(pads: [0, 0, -1, 1, 0, 0, 1, 1]),
    ]
    for (i, (graph, inputs)) in cases.enumerated() {
        var g = graph
        if i == 2 {
            // Channel padding needs weights for 7 input channels.
            g.initializers["w"] = Tensor(shape: [6, 7, 3, 3], floats: floats(6 * 7 * 9, seed: 1))
        }
        let (optimized, report) = try GraphOptimizer().optimize(g)
        #expect(report.fusedPads == 0)
        #expect(optimized.nodes.map(\.opType) == ["Pad", "Conv"])
        #expect(try run(optimized, inputs) == (try run(g, inputs)))
    }
}

@Test func padWithASecondReaderStays() throws {
    var (graph, inputs) = padConvGraph(pads: [0, 0, 1, 1, 0, 0, 1, 1])
    graph.nodes.append(Node(name: "other", opType: "Relu", inputs: ["p"], outputs: ["r"]))
    graph.outputs.append(info("r", []))
    let (optimized, report) = try GraphOptimizer().optimize(graph)
    #expect(report.fusedPads == 0)
    #expect(try run(optimized, inputs) == (try run(graph, inputs)))
}

import MPQGraph
import Testing

private func info(_ name: String) -> ValueInfo {
    ValueInfo(name: name, elementType: .float32, declaredTypeName: "float32", shape: [.symbolic("N"), .fixed(4)])
}

/// Nodes listed out of order come back producers first; ties keep their original order.
@Test func topologicalSortOrdersProducersFirst() throws {
    var graph = Graph(nodes: [
        Node(name: "c", opType: "Add", inputs: ["a_out", "b_out"], outputs: ["y"]),
        Node(name: "a", opType: "Relu", inputs: ["x"], outputs: ["a_out"]),
        Node(name: "b", opType: "Mul", inputs: ["x", "w"], outputs: ["b_out"]),
    ], initializers: ["w": .scalar(2)], inputs: [info("x")], outputs: [info("y")], opsetVersion: 13)
    try graph.sortTopologically()
    #expect(graph.nodes.map(\.name) == ["a", "b", "c"])
    #expect(graph.consumers()["x"] == [0, 1])
    #expect(graph.producers()["y"] == 2)
}

@Test func cycleAndUndefinedValueAreReported() {
    var cyclic = Graph(nodes: [
        Node(name: "a", opType: "Relu", inputs: ["b_out"], outputs: ["a_out"]),
        Node(name: "b", opType: "Relu", inputs: ["a_out"], outputs: ["b_out"]),
    ], inputs: [info("x")], outputs: [info("a_out")], opsetVersion: 13)
    #expect(throws: GraphError.cycle(nodes: ["a", "b"])) { try cyclic.sortTopologically() }
    var dangling = Graph(nodes: [Node(name: "a", opType: "Relu", inputs: ["nothing"], outputs: ["y"])],
                         inputs: [info("x")], outputs: [info("y")], opsetVersion: 13)
    #expect(throws: GraphError.undefinedValue(node: "a", value: "nothing")) { try dangling.sortTopologically() }
}

@Test func attributeAccessorsCheckKinds() throws {
    let node = Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                    attributes: ["group": .int(2), "pads": .ints([1, 1, 1, 1]), "auto_pad": .string("NOTSET")])
    #expect(try node.int("group") == 2)
    #expect(try node.int("missing", default: 7) == 7)
    #expect(try node.ints("pads") == [1, 1, 1, 1])
    #expect(throws: GraphError.attributeKind(node: "conv", attribute: "pads", expected: "int", found: "ints")) { try node.int("pads") }
    #expect(throws: GraphError.missingAttribute(node: "conv", opType: "Conv", attribute: "strides")) { try node.int("strides") }
}

@Test func valueInfoAcceptsSymbolicBatch() {
    let x = info("x")
    #expect(x.accepts(shape: [32, 4]))
    #expect(!x.accepts(shape: [32, 5]))
    #expect(!x.accepts(shape: [4]))
    #expect(x.shapeDescription == "[N, 4]")
}

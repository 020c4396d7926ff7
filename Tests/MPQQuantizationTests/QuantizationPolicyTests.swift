import Foundation
import Testing
import MPQExecutor
import MPQGraph
@testable import MPQQuantization

@Suite struct QuantizationPolicyTests {
    /// x → conv1 → relu1 → conv2 → add(conv2, relu1) → GlobalAveragePool → Flatten → fc (Gemm, transB) → logits.
    static func residualGraph() -> Graph {
        let nodes = [
            Node(name: "conv1", opType: "Conv", inputs: ["x", "w1", "b1"], outputs: ["c1"]),
            Node(name: "relu1", opType: "Relu", inputs: ["c1"], outputs: ["r1"]),
            Node(name: "conv2", opType: "Conv", inputs: ["r1", "w2"], outputs: ["c2"]),
            Node(name: "add", opType: "Add", inputs: ["c2", "r1"], outputs: ["s"]),
            Node(name: "gap", opType: "GlobalAveragePool", inputs: ["s"], outputs: ["g"]),
            Node(name: "flatten", opType: "Flatten", inputs: ["g"], outputs: ["f"]),
            Node(name: "fc", opType: "Gemm", inputs: ["f", "wfc", "bfc"], outputs: ["logits"], attributes: ["transB": .int(1)]),
        ]
        let inits: [String: Tensor] = [
            "w1": .zeros([4, 1, 3, 3]), "b1": .zeros([4]), "w2": .zeros([4, 4, 3, 3]),
            "wfc": .zeros([10, 4]), "bfc": .zeros([10]),
        ]
        return Graph(nodes: nodes, initializers: inits,
                     inputs: [ValueInfo(name: "x", elementType: .float32, declaredTypeName: "float32", shape: nil)],
                     outputs: [ValueInfo(name: "logits", elementType: .float32, declaredTypeName: "float32", shape: nil)],
                     opsetVersion: 13)
    }

    @Test func defaultPolicyOnResidualGraph() throws {
        let list = try QuantizationPolicy().tensors(in: Self.residualGraph())
        let expected = [
            QuantizedTensor(name: "x", role: .activation, isNonNegative: false, signedness: .signed, layer: "conv1", layers: ["conv1"]),
            QuantizedTensor(name: "w1", role: .weight(channelAxis: 0), isNonNegative: false, signedness: .signed, layer: "conv1", layers: ["conv1"]),
            QuantizedTensor(name: "r1", role: .activation, isNonNegative: true, signedness: .unsigned, layer: "conv1", layers: ["conv1", "conv2"]),
            QuantizedTensor(name: "w2", role: .weight(channelAxis: 0), isNonNegative: false, signedness: .signed, layer: "conv2", layers: ["conv2"]),
            QuantizedTensor(name: "c2", role: .activation, isNonNegative: false, signedness: .signed, layer: "conv2", layers: ["conv2"]),
            QuantizedTensor(name: "f", role: .activation, isNonNegative: false, signedness: .signed, layer: "fc", layers: ["fc"]),
            QuantizedTensor(name: "wfc", role: .weight(channelAxis: 0), isNonNegative: false, signedness: .signed, layer: "fc", layers: ["fc"]),
        ]
        #expect(list == expected)
    }

    /// GraphOptimizer fuses relu1 into conv1 (conv1 then outputs r1): r1 is still seen as non-negative and
    /// gets an unsigned grid, as for the unfused graph. Fused Clip(0, 6) is non-negative; fused Clip(−1, 1),
    /// LeakyRelu and HardSwish (down to −0.375) are not.
    @Test func fusedActivationsKeepTheirSign() throws {
        let (fused, report) = try GraphOptimizer().optimize(Self.residualGraph())
        #expect(report.fusedActivations == 1)
        #expect(fused.nodes.first { $0.name == "conv1" }?.outputs == ["r1"])
        #expect(try QuantizationPolicy().tensors(in: fused) == QuantizationPolicy().tensors(in: Self.residualGraph()))

        let cases: [(String, [Float], QuantizationGrid.Signedness)] = [
            ("Clip", [0, 6], .unsigned), ("Clip", [-1, 1], .signed), ("Relu", [], .unsigned), ("Sigmoid", [], .unsigned),
            ("LeakyRelu", [0.1], .signed), ("HardSwish", [], .signed),
        ]
        for (op, params, expected) in cases {
            var graph = Self.residualGraph()
            graph.nodes.removeAll { $0.name == "relu1" }
            graph.nodes[0].outputs = ["r1"]
            graph.nodes[0].attributes[Node.fusedActivationKey] = .string(op)
            graph.nodes[0].attributes[Node.fusedActivationParamsKey] = .floats(params)
            let r1 = try #require(try QuantizationPolicy().tensors(in: graph).first { $0.name == "r1" })
            #expect(r1.signedness == expected, "fused \(op) \(params)")
        }
    }

    @Test func optionsChangeTheList() throws {
        let g = Self.residualGraph()
        let p = QuantizationPolicy(keepFirstAndLastLayersFloat: true, perChannelWeights: false,
                                   activationSignedness: .alwaysSigned, quantizeGraphOutputs: true)
        let list = try p.tensors(in: g)
        #expect(list.map(\.name) == ["r1", "w2", "c2"])
        #expect(list[0].signedness == .signed && list[0].isNonNegative)
        #expect(list[1].role == .weight(channelAxis: nil))
        let withOutputs = try QuantizationPolicy(quantizeGraphOutputs: true).tensors(in: g)
        #expect(withOutputs.last?.name == "logits")
    }

    @Test func sharedActivationAndNonNegativity() throws {
        // A Clip(0, 6) output read by two MatMuls and a Gemm without transB; pooled relu stays non-negative.
        let nodes = [
            Node(name: "clip", opType: "Clip", inputs: ["x", "zero", "six"], outputs: ["a"]),
            Node(name: "mm1", opType: "MatMul", inputs: ["a", "m1"], outputs: ["y1"]),
            Node(name: "mm2", opType: "MatMul", inputs: ["a", "m2"], outputs: ["y2"]),
            Node(name: "sig", opType: "Sigmoid", inputs: ["y2"], outputs: ["z"]),
            Node(name: "pool", opType: "MaxPool", inputs: ["z"], outputs: ["pz"]),
            Node(name: "fc", opType: "Gemm", inputs: ["pz", "wg"], outputs: ["o"]),
            Node(name: "out", opType: "Add", inputs: ["o", "y1"], outputs: ["final"]),
        ]
        let inits: [String: Tensor] = [
            "zero": .scalar(0), "six": .scalar(6), "m1": .zeros([3, 5]), "m2": .zeros([3, 5]), "wg": .zeros([5, 2]),
        ]
        let g = Graph(nodes: nodes, initializers: inits,
                      inputs: [ValueInfo(name: "x", elementType: .float32, declaredTypeName: "float32", shape: nil)],
                      outputs: [ValueInfo(name: "final", elementType: .float32, declaredTypeName: "float32", shape: nil)],
                      opsetVersion: 13)
        let list = try QuantizationPolicy().tensors(in: g)
        #expect(list.map(\.name) == ["a", "m1", "y1", "m2", "z", "pz", "wg", "o"])
        let byName = Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
        #expect(byName["a"]!.layers == ["mm1", "mm2"] && byName["a"]!.isNonNegative && byName["a"]!.signedness == .unsigned)
        #expect(byName["m1"]!.role == .weight(channelAxis: 1))
        #expect(byName["wg"]!.role == .weight(channelAxis: 1))
        #expect(byName["z"]!.isNonNegative && byName["pz"]!.isNonNegative)
        #expect(!byName["y1"]!.isNonNegative && !byName["o"]!.isNonNegative)
    }
}

import Testing
import MPQGraph
@testable import MPQQuantization

/// Quantizer placement on one self-attention block as BERT exports it (MatMul + bias Add, Q·Kᵀ, softmax, attention·V).
@Suite struct TransformerPolicyTests {
    /// x → {q, k, v} = MatMul + bias; scores = q·Transpose(k) / c + mask → Softmax → ·v → output projection + bias
    /// → residual Add with x → LayerNormalization; plus an embedding Gather feeding nothing quantized.
    static func attentionGraph() -> Graph {
        let nodes = [
            Node(name: "emb", opType: "Gather", inputs: ["table", "ids"], outputs: ["e"]),
            Node(name: "embAdd", opType: "Add", inputs: ["e", "x0"], outputs: ["x"]),
            Node(name: "q", opType: "MatMul", inputs: ["x", "wq"], outputs: ["q0"]),
            Node(name: "qBias", opType: "Add", inputs: ["q0", "bq"], outputs: ["qb"]),
            Node(name: "k", opType: "MatMul", inputs: ["x", "wk"], outputs: ["k0"]),
            Node(name: "kBias", opType: "Add", inputs: ["bk", "k0"], outputs: ["kb"]),
            Node(name: "v", opType: "MatMul", inputs: ["x", "wv"], outputs: ["v0"]),
            Node(name: "vBias", opType: "Add", inputs: ["v0", "bv"], outputs: ["vb"]),
            Node(name: "kT", opType: "Transpose", inputs: ["kb"], outputs: ["kt"], attributes: ["perm": .ints([0, 2, 1])]),
            Node(name: "scores", opType: "MatMul", inputs: ["qb", "kt"], outputs: ["s"]),
            Node(name: "scale", opType: "Div", inputs: ["s", "c"], outputs: ["sd"]),
            Node(name: "mask", opType: "Add", inputs: ["sd", "m"], outputs: ["sm"]),
            Node(name: "softmax", opType: "Softmax", inputs: ["sm"], outputs: ["p"]),
            Node(name: "context", opType: "MatMul", inputs: ["p", "vb"], outputs: ["ctx"]),
            Node(name: "o", opType: "MatMul", inputs: ["ctx", "wo"], outputs: ["o0"]),
            Node(name: "oBias", opType: "Add", inputs: ["o0", "bo"], outputs: ["ob"]),
            Node(name: "residual", opType: "Add", inputs: ["ob", "x"], outputs: ["r"]),
            Node(name: "ln", opType: "LayerNormalization", inputs: ["r", "gamma", "beta"], outputs: ["y"]),
        ]
        var inits: [String: Tensor] = ["table": .zeros([50, 4]), "c": .scalar(2), "gamma": .zeros([4]), "beta": .zeros([4])]
        for n in ["wq", "wk", "wv", "wo"] { inits[n] = .zeros([4, 4]) }
        for n in ["bq", "bk", "bv", "bo"] { inits[n] = .zeros([4]) }
        let float = { (n: String) in ValueInfo(name: n, elementType: .float32, declaredTypeName: "float32", shape: nil) }
        return Graph(nodes: nodes, initializers: inits,
                     inputs: [ValueInfo(name: "ids", elementType: .int64, declaredTypeName: "int64", shape: nil), float("x0"), float("m")],
                     outputs: [float("y")], opsetVersion: 17)
    }

    @Test func attentionBlockPlacement() throws {
        let g = Self.attentionGraph()
        let policy = QuantizationPolicy()
        let layers = policy.layers(in: g).map { (g.nodes[$0.node].name, $0.weightInput, $0.dataInputs) }
        #expect(layers.map(\.0) == ["emb", "q", "k", "v", "scores", "context", "o"])
        #expect(layers[0].1 == 0 && layers[0].2.isEmpty)          // the embedding table is a weight, ids are not data
        #expect(layers[4].1 == nil && layers[4].2 == [0, 1])      // Q·Kᵀ: two activations

        let list = try policy.tensors(in: g)
        let byName = Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
        // Weights per channel (Gather: one scale per row; MatMul: the last axis).
        #expect(byName["table"]?.role == .weight(channelAxis: 0))
        #expect(byName["wq"]?.role == .weight(channelAxis: 1))
        // Outputs are taken after the bias Add, whichever side the bias is on.
        #expect(byName["qb"]?.layers == ["q", "scores"])
        #expect(byName["kb"]?.layers == ["k", "scores"])   // Q·Kᵀ reads Transpose(kb): the same quantizer, not a new one
        #expect(byName["kt"] == nil && byName["q0"] == nil && byName["k0"] == nil)
        #expect(byName["vb"]?.layers == ["v", "context"])
        // Scores feed Softmax through the scale and the mask add: kept in float.
        #expect(byName["s"] == nil && byName["sd"] == nil && byName["sm"] == nil)
        let floats = try policy.floatTensors(in: g)
        #expect(floats.map(\.name) == ["s"] && floats[0].floatOp == "Softmax" && floats[0].layer == "scores")
        // Softmax output is a non-negative activation input of attention·V.
        #expect(byName["p"]?.signedness == .unsigned && byName["p"]?.layers == ["context"])
        #expect(byName["ctx"]?.layers == ["context", "o"])
        #expect(byName["ob"]?.layers == ["o"])
        // The embedding output is not quantized; x (the embedding sum) is, as the projections' input.
        #expect(byName["e"] == nil && byName["x"]?.layers == ["q", "k", "v"])
        #expect(list.count == 12)
    }

    @Test func profileFloatOpsKeepTheirInputsAndLayersInFloat() throws {
        let g = Self.attentionGraph()
        let withLayerNorm = QuantizationPolicy(floatOps: ["Softmax", "LayerNormalization"])
        let names = Set(try withLayerNorm.tensors(in: g).map(\.name))
        #expect(!names.contains("ob") && names.contains("ctx"))
        #expect(try withLayerNorm.floatTensors(in: g).map(\.name) == ["s", "ob"])
        // A float-only layer op type drops those layers: no MatMul quantizers remain, only the embedding table.
        let floatMatMul = QuantizationPolicy(floatOps: ["Softmax", "MatMul"])
        #expect(try floatMatMul.tensors(in: g).map(\.name) == ["table"])
    }
}

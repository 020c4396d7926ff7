import MPQGraph
import ONNXProto

/// Converts an ONNX GraphProto into the graph IR.
struct GraphImporter {
    var decoder: TensorDecoder
    var opset: Int

    /// Converts `proto`, emptying each initializer once decoded: when the caller holds the only copy of the
    /// message, its weight bytes are freed one tensor at a time instead of staying beside the decoded tensors.
    func graph(consuming proto: inout Onnx_GraphProto) throws -> Graph {
        var initializers: [String: Tensor] = [:]
        for i in proto.initializer.indices {
            let t = proto.initializer[i]
            let name = t.name.isEmpty ? "initializer_\(i)" : t.name
            initializers[name] = try decoder.decode(t, name: name)
            proto.initializer[i] = Onnx_TensorProto()
        }
        // Before IR version 4 initializers were also listed as graph inputs; they are not inputs to feed.
        let inputs = proto.input.filter { initializers[$0.name] == nil }.map(valueInfo)
        let outputs = proto.output.map(valueInfo)
        let nodes = try proto.node.enumerated().map { try node(from: $1, index: $0) }
        try Self.checkFiniteWeights(nodes: nodes, initializers: initializers)
        var graph = Graph(name: proto.name.isEmpty ? "graph" : proto.name, nodes: nodes,
                          initializers: initializers, inputs: inputs, outputs: outputs, opsetVersion: opset)
        try graph.sortTopologically()
        return graph
    }

    /// Refuses NaN or infinite weights and biases of Conv/Gemm/MatMul: quantizing them gives NaN steps and a
    /// plan computed on garbage. (Other constants, such as attention masks, may hold -inf on purpose.)
    static func checkFiniteWeights(nodes: [Node], initializers: [String: Tensor]) throws {
        for node in nodes where ["Conv", "Gemm", "MatMul", "ConvTranspose"].contains(node.opType) {
            for name in node.inputs.dropFirst() {
                guard let values = initializers[name]?.floats,
                      let i = values.firstIndex(where: { !$0.isFinite }) else { continue }
                throw ONNXError.malformedTensor(tensor: name, reason: "weight of node '\(node.name)' holds \(values[i]) at element \(i); weights must be finite")
            }
        }
    }

    func valueInfo(_ p: Onnx_ValueInfoProto) -> ValueInfo {
        guard p.hasType, case .tensorType(let t)? = p.type.value else {
            return ValueInfo(name: p.name, elementType: nil, declaredTypeName: "unknown", shape: nil)
        }
        let shape: [Dimension]? = t.hasShape ? t.shape.dim.map { d in
            switch d.value {
            case .dimValue(let v)?: return v >= 0 ? .fixed(Int(v)) : .unknown
            case .dimParam(let s)?: return s.isEmpty ? .unknown : .symbolic(s)
            case nil: return .unknown
            }
        } : nil
        return ValueInfo(name: p.name, elementType: ONNXDataType.elementType(t.elemType),
                         declaredTypeName: ONNXDataType.name(t.elemType), shape: shape)
    }

    func node(from p: Onnx_NodeProto, index: Int) throws -> Node {
        var attributes: [String: Attribute] = [:]
        let name = p.name.isEmpty ? "\(p.opType)_\(index)" : p.name
        for a in p.attribute {
            if let value = try attribute(a, node: name) { attributes[a.name] = value }
        }
        return Node(name: name, opType: p.opType, domain: p.domain == "ai.onnx" ? "" : p.domain,
                    inputs: p.input, outputs: p.output, attributes: attributes)
    }

    /// One attribute; nil for kinds the IR does not model (subgraphs), which no supported operator reads.
    func attribute(_ a: Onnx_AttributeProto, node: String) throws -> Attribute? {
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        var type = a.type
        if !a.hasType {
            // Very old models omit the type; infer it from the field that is set.
            if a.hasF { type = .float } else if a.hasI { type = .int } else if a.hasS { type = .string }
            else if a.hasT { type = .tensor } else if !a.ints.isEmpty { type = .ints }
            else if !a.floats.isEmpty { type = .floats } else if !a.strings.isEmpty { type = .strings }
        }
        switch type {
        case .float: return .float(a.f)
        case .int:
            guard let v = Int(exactly: a.i) else {
                throw ONNXError.malformedAttribute(node: node, attribute: a.name, reason: "value \(a.i) out of range")
            }
            return .int(v)
        case .string: return .string(text(Array(a.s)))
        case .floats: return .floats(a.floats)
        case .ints: return .ints(a.ints.map { Int(clamping: $0) })
        case .strings: return .strings(a.strings.map { text(Array($0)) })
        case .tensor: return .tensor(try decoder.decode(a.t, name: "\(node).\(a.name)"))
        default: return nil
        }
    }
}

import MPQGraph

/// The role of a quantized tensor.
public enum TensorRole: Sendable, Hashable, Codable {
    /// A layer's constant weight; `channelAxis` is the per-channel axis, or nil for per-tensor.
    case weight(channelAxis: Int?)
    /// An activation (a graph input or a node output).
    case activation
}

/// One tensor the policy quantizes.
public struct QuantizedTensor: Sendable, Hashable, Codable {
    /// The value name in the graph.
    public var name: String
    public var role: TensorRole
    /// Whether the tensor is provably ≥ 0 (Relu, Clip with min ≥ 0, Sigmoid, HardSigmoid, Softmax,
    /// and order-preserving or pooling operators of such tensors).
    public var isNonNegative: Bool
    /// The grid signedness the policy recommends (unsigned for non-negative activations when allowed).
    public var signedness: QuantizationGrid.Signedness
    /// The first layer (node name) that claims the tensor.
    public var layer: String
    /// Every quantized layer that reads or produces the tensor, in graph order.
    public var layers: [String]

    public init(name: String, role: TensorRole, isNonNegative: Bool, signedness: QuantizationGrid.Signedness,
                layer: String, layers: [String]) {
        self.name = name; self.role = role; self.isNonNegative = isNonNegative
        self.signedness = signedness; self.layer = layer; self.layers = layers
    }
}

/// Which tensors of a graph to quantize.
///
/// Rule: every Conv, Gemm and MatMul node whose weight (input 1; for MatMul, input 1 or else
/// input 0) is a constant initializer is a quantized layer. In graph (topological) order, each layer
/// contributes
/// 1. its data input activation (input 0, or MatMul's non-constant operand),
/// 2. its weight (per-channel axis: Conv 0, Gemm transB ? 0 : 1, MatMul the last axis),
/// 3. its output activation — but when the output's only consumer is an activation function
///    (Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Elu, Selu, Softplus, Gelu,
///    PRelu) and the raw output is not a graph output, that function's output is quantized
///    instead, so the activation function is not split from its layer (it runs fused).
/// Graph outputs are not quantized unless `quantizeGraphOutputs` is set (final logits stay FP32).
/// A tensor claimed by several layers (an activation read by two convs, or one layer's output that
/// is the next layer's input) is one entry, listed once at its first claim with all its layers.
/// With `keepFirstAndLastLayersFloat`, the first and last quantized layers are dropped: their weights
/// and the activations only they claim stay FP32; activations another quantized layer also claims
/// stay quantized (that layer needs integer inputs).
public struct QuantizationPolicy: Sendable, Hashable {
    /// How to pick the signedness of activation grids.
    public enum ActivationSignedness: String, Sendable, Hashable, Codable {
        /// Unsigned grids for provably non-negative activations, signed otherwise.
        case unsignedWhenNonNegative
        /// Signed grids for every activation.
        case alwaysSigned
    }

    public var keepFirstAndLastLayersFloat: Bool
    public var perChannelWeights: Bool
    public var activationSignedness: ActivationSignedness
    public var quantizeGraphOutputs: Bool

    public init(keepFirstAndLastLayersFloat: Bool = false, perChannelWeights: Bool = true,
                activationSignedness: ActivationSignedness = .unsignedWhenNonNegative,
                quantizeGraphOutputs: Bool = false) {
        self.keepFirstAndLastLayersFloat = keepFirstAndLastLayersFloat
        self.perChannelWeights = perChannelWeights
        self.activationSignedness = activationSignedness
        self.quantizeGraphOutputs = quantizeGraphOutputs
    }

    /// Operators whose output can be fused into the preceding layer.
    public static let activationFunctions: Set<String> = [
        "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Softplus", "Gelu", "PRelu",
    ]

    /// The quantized layers of a graph: (node index, weight input index, data input index).
    public func layers(in graph: Graph) -> [(node: Int, weightInput: Int, dataInput: Int)] {
        var result: [(Int, Int, Int)] = []
        for (i, node) in graph.nodes.enumerated() where node.domain.isEmpty && node.inputs.count >= 2 {
            let isConst = { (k: Int) in graph.initializers[node.inputs[k]] != nil }
            switch node.opType {
            case "Conv", "Gemm":
                if isConst(1) && !isConst(0) { result.append((i, 1, 0)) }
            case "MatMul":
                if isConst(1) && !isConst(0) { result.append((i, 1, 0)) } else if isConst(0) && !isConst(1) { result.append((i, 0, 1)) }
            default: break
            }
        }
        return result
    }

    /// The tensors to quantize, in order of first claim (see the type's documentation).
    public func tensors(in graph: Graph) throws -> [QuantizedTensor] {
        var layers = self.layers(in: graph)
        if keepFirstAndLastLayersFloat {
            if !layers.isEmpty { layers.removeFirst() }
            if !layers.isEmpty { layers.removeLast() }
        }
        let consumers = graph.consumers(), producers = graph.producers()
        let graphOutputs = Set(graph.outputs.map(\.name))
        var analysis = NonNegativity(graph: graph, producers: producers)
        var entries: [QuantizedTensor] = []
        var index: [String: Int] = [:]

        func claim(_ name: String, role: TensorRole, layer: String) {
            if let k = index[name] {
                if !entries[k].layers.contains(layer) { entries[k].layers.append(layer) }
                return
            }
            if case .activation = role, graphOutputs.contains(name), !quantizeGraphOutputs { return }
            let nonNegative: Bool
            if case .activation = role { nonNegative = analysis.isNonNegative(name) } else { nonNegative = false }
            let signedness: QuantizationGrid.Signedness =
                (nonNegative && activationSignedness == .unsignedWhenNonNegative && role == .activation) ? .unsigned : .signed
            index[name] = entries.count
            entries.append(QuantizedTensor(name: name, role: role, isNonNegative: nonNegative, signedness: signedness,
                                           layer: layer, layers: [layer]))
        }

        for (n, weightInput, dataInput) in layers {
            let node = graph.nodes[n]
            let layerName = node.displayName
            let weightName = node.inputs[weightInput]
            let rank = graph.initializers[weightName]?.rank ?? 2
            var axis: Int?
            if perChannelWeights {
                switch node.opType {
                case "Conv": axis = 0
                case "Gemm": axis = try node.int("transB", default: 0) != 0 ? 0 : 1
                default: axis = weightInput == 1 ? rank - 1 : (rank >= 2 ? rank - 2 : 0)
                }
            }
            claim(node.inputs[dataInput], role: .activation, layer: layerName)
            claim(weightName, role: .weight(channelAxis: axis), layer: layerName)
            guard let out = node.outputs.first, !out.isEmpty else { continue }
            var quantizedOutput = out
            if let readers = consumers[out], readers.count == 1, !graphOutputs.contains(out) {
                let next = graph.nodes[readers[0]]
                if next.domain.isEmpty, Self.activationFunctions.contains(next.opType), next.inputs.first == out,
                   let fusedOut = next.outputs.first, !fusedOut.isEmpty {
                    quantizedOutput = fusedOut
                }
            }
            claim(quantizedOutput, role: .activation, layer: layerName)
        }
        return entries
    }
}

/// Sign analysis of graph values: which ones are provably ≥ 0.
struct NonNegativity {
    let graph: Graph
    let producers: [String: Int]
    var memo: [String: Bool] = [:]

    init(graph: Graph, producers: [String: Int]) {
        self.graph = graph
        self.producers = producers
    }

    static let alwaysNonNegative: Set<String> = ["Relu", "Sigmoid", "HardSigmoid", "Softmax", "Abs", "Exp", "Softplus"]
    /// Operators whose output is ≥ 0 when their first input is.
    static let firstInputPreserving: Set<String> = [
        "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Reshape", "Transpose",
        "Squeeze", "Unsqueeze", "Identity", "Dropout", "ReduceMean", "ReduceMax", "ReduceMin", "Slice", "Gather",
        "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "Expand", "Pad",
    ]
    /// Operators whose output is ≥ 0 when all inputs are.
    static let allInputsPreserving: Set<String> = ["Concat", "Add", "Mul", "Max", "Min", "Sum", "Mean"]

    mutating func isNonNegative(_ name: String) -> Bool {
        if let known = memo[name] { return known }
        memo[name] = false // guards against cycles
        let result = compute(name)
        memo[name] = result
        return result
    }

    private mutating func compute(_ name: String) -> Bool {
        if let t = graph.initializers[name] { return t.asFloats.allSatisfy { $0 >= 0 } }
        guard let p = producers[name] else { return false }
        let node = graph.nodes[p]
        guard node.domain.isEmpty, node.outputs.first == name else { return false }
        if Self.alwaysNonNegative.contains(node.opType) { return true }
        if node.opType == "Clip" {
            if node.inputs.count >= 2, !node.inputs[1].isEmpty {
                if let m = graph.initializers[node.inputs[1]]?.asFloats.first { return m >= 0 }
                return false
            }
            if let m = try? node.float("min", default: -.infinity), m > -.infinity { return m >= 0 }
            return node.inputs.first.map { isNonNegative($0) } ?? false
        }
        if node.opType == "Pad" {
            // Constant padding with a negative value breaks the property.
            if node.inputs.count >= 3, !node.inputs[2].isEmpty,
               let v = graph.initializers[node.inputs[2]]?.asFloats.first, v < 0 { return false }
            if let v = try? node.float("value", default: 0), v < 0 { return false }
        }
        if Self.firstInputPreserving.contains(node.opType) {
            return node.inputs.first.map { isNonNegative($0) } ?? false
        }
        if Self.allInputsPreserving.contains(node.opType) {
            let data = node.inputs.filter { !$0.isEmpty }
            return !data.isEmpty && data.allSatisfy { isNonNegative($0) }
        }
        return false
    }
}

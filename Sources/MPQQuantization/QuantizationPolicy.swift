import MPQExecutor
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
    /// Whether the tensor is provably ≥ 0 (Relu, Clip with min ≥ 0, Sigmoid, HardSigmoid, Softmax —
    /// stand-alone or fused into the preceding layer — and order-preserving or pooling operators of
    /// such tensors).
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
/// Rule: a quantized layer is a Conv or Gemm whose weight (input 1) is a constant initializer, a
/// MatMul with one constant operand (its weight) or with two activation operands (Q·Kᵀ and
/// attention·V in transformers), or a Gather from a constant table (an embedding; weight only).
/// In graph (topological) order, each layer contributes
/// 1. its data input activations (Gather's indices are not data); an input that is a Reshape,
///    Transpose, Squeeze, Unsqueeze or Flatten of a tensor already quantized reuses that quantizer,
///    since moving data does not change values;
/// 2. its weight (per-channel axis: Conv 0, Gemm transB ? 0 : 1, MatMul the last axis, Gather 0);
/// 3. its output activation, taken after a following bias Add (an Add of a constant, as exported
///    linear layers compute `MatMul + bias`) and after an activation function that is the only
///    reader (Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Elu, Selu, Softplus,
///    Gelu, PRelu), so the layer's epilogue is not split. Gather outputs are not quantized.
/// An output stays FP32 when it reaches an op in `floatOps` through element-wise arithmetic
/// (Add, Sub, Mul, Div, Where): by default the Softmax input, so the attention scores and the
/// attention-mask add with its huge negative constants stay in float (see `floatTensors(in:)`).
/// Layers whose op type is in `floatOps` are not quantized.
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
    /// Op types that run in float: their inputs are not quantized as layer outputs, and layers of
    /// these types are not quantized. Softmax by default; hardware profiles add their float-only ops.
    public var floatOps: Set<String>

    /// The default float-only op types.
    public static let defaultFloatOps: Set<String> = ["Softmax"]

    public init(keepFirstAndLastLayersFloat: Bool = false, perChannelWeights: Bool = true,
                activationSignedness: ActivationSignedness = .unsignedWhenNonNegative,
                quantizeGraphOutputs: Bool = false, floatOps: Set<String> = QuantizationPolicy.defaultFloatOps) {
        self.keepFirstAndLastLayersFloat = keepFirstAndLastLayersFloat
        self.perChannelWeights = perChannelWeights
        self.activationSignedness = activationSignedness
        self.quantizeGraphOutputs = quantizeGraphOutputs
        self.floatOps = floatOps
    }

    /// Operators whose output can be fused into the preceding layer.
    public static let activationFunctions: Set<String> = [
        "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Softplus", "Gelu", "PRelu",
    ]

    /// Operators that only move data: their output quantizes exactly like their input.
    public static let dataMovement: Set<String> = ["Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Identity"]

    /// Element-wise operators through which a layer output is traced to a float-only op.
    static let elementwise: Set<String> = ["Add", "Sub", "Mul", "Div", "Where"]

    /// A quantized layer: its node, its weight input (nil for an activation-activation MatMul) and its data inputs.
    public struct Layer: Sendable, Hashable {
        public var node: Int
        public var weightInput: Int?
        public var dataInputs: [Int]
    }

    /// An activation left in FP32 because it feeds a float-only op.
    public struct FloatTensor: Sendable, Hashable, Codable {
        /// The value name.
        public var name: String
        /// The layer that produces it.
        public var layer: String
        /// The op type of the float-only op it reaches.
        public var floatOp: String
        /// Why, e.g. "feeds Softmax 'attn/softmax', which runs in float".
        public var reason: String
    }

    /// The quantized layers of a graph, in graph order.
    public func layers(in graph: Graph) -> [Layer] {
        var result: [Layer] = []
        for (i, node) in graph.nodes.enumerated() where node.domain.isEmpty && node.inputs.count >= 2 && !floatOps.contains(node.opType) {
            let isConst = { (k: Int) in graph.initializers[node.inputs[k]] != nil }
            switch node.opType {
            case "Conv", "Gemm":
                if isConst(1) && !isConst(0) { result.append(Layer(node: i, weightInput: 1, dataInputs: [0])) }
            case "MatMul":
                switch (isConst(0), isConst(1)) {
                case (false, true): result.append(Layer(node: i, weightInput: 1, dataInputs: [0]))
                case (true, false): result.append(Layer(node: i, weightInput: 0, dataInputs: [1]))
                case (false, false): result.append(Layer(node: i, weightInput: nil, dataInputs: [0, 1]))
                case (true, true): break
                }
            case "Gather":
                let axis = (try? node.int("axis", default: 0)) ?? 0
                if isConst(0) && !isConst(1) && axis == 0 && graph.initializers[node.inputs[0]]?.elementType == .float32 {
                    result.append(Layer(node: i, weightInput: 0, dataInputs: []))
                }
            default: break
            }
        }
        return result
    }

    /// The tensors to quantize, in order of first claim (see the type's documentation).
    public func tensors(in graph: Graph) throws -> [QuantizedTensor] {
        try select(in: graph).tensors
    }

    /// The layer outputs left in FP32 because they feed a float-only op (for reports).
    public func floatTensors(in graph: Graph) throws -> [FloatTensor] {
        try select(in: graph).float
    }

    private func select(in graph: Graph) throws -> (tensors: [QuantizedTensor], float: [FloatTensor]) {
        var layers = self.layers(in: graph)
        if keepFirstAndLastLayersFloat {
            if !layers.isEmpty { layers.removeFirst() }
            if !layers.isEmpty { layers.removeLast() }
        }
        let consumers = graph.consumers(), producers = graph.producers()
        let graphOutputs = Set(graph.outputs.map(\.name))
        var analysis = NonNegativity(graph: graph, producers: producers)
        var entries: [QuantizedTensor] = []
        var floats: [FloatTensor] = []
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

        /// The already-quantized tensor that `name` is a pure data movement of, else `name`.
        func quantizedSource(_ name: String) -> String {
            var current = name
            while index[current] == nil, let p = producers[current], graph.nodes[p].domain.isEmpty,
                  Self.dataMovement.contains(graph.nodes[p].opType), let source = graph.nodes[p].inputs.first, !source.isEmpty {
                current = source
            }
            return index[current] != nil ? current : name
        }

        /// The only reader of `name`, when there is exactly one and `name` is not a graph output.
        func onlyReader(_ name: String) -> Node? {
            guard let readers = consumers[name], readers.count == 1, !graphOutputs.contains(name) else { return nil }
            let node = graph.nodes[readers[0]]
            return node.domain.isEmpty ? node : nil
        }

        /// The float-only op `name` reaches through element-wise arithmetic, if any.
        func floatOnlyReader(_ name: String, depth: Int = 0) -> Node? {
            guard depth < 6 else { return nil }
            for r in consumers[name] ?? [] {
                let node = graph.nodes[r]
                guard node.domain.isEmpty else { continue }
                if floatOps.contains(node.opType) { return node }
                if Self.elementwise.contains(node.opType), let out = node.outputs.first, !out.isEmpty,
                   let found = floatOnlyReader(out, depth: depth + 1) {
                    return found
                }
            }
            return nil
        }

        for layer in layers {
            let node = graph.nodes[layer.node]
            let layerName = node.displayName
            for d in layer.dataInputs {
                claim(quantizedSource(node.inputs[d]), role: .activation, layer: layerName)
            }
            if let w = layer.weightInput {
                let weightName = node.inputs[w]
                let rank = graph.initializers[weightName]?.rank ?? 2
                var axis: Int?
                if perChannelWeights {
                    switch node.opType {
                    case "Conv", "Gather": axis = 0
                    case "Gemm": axis = try node.int("transB", default: 0) != 0 ? 0 : 1
                    default: axis = w == 1 ? rank - 1 : (rank >= 2 ? rank - 2 : 0)
                    }
                }
                claim(weightName, role: .weight(channelAxis: axis), layer: layerName)
            }
            guard node.opType != "Gather", let out = node.outputs.first, !out.isEmpty else { continue }
            var quantizedOutput = out
            if let next = onlyReader(quantizedOutput), next.opType == "Add", next.inputs.count == 2,
               let other = next.inputs.first(where: { $0 != quantizedOutput }), graph.initializers[other] != nil,
               let biased = next.outputs.first, !biased.isEmpty {
                quantizedOutput = biased
            }
            if let next = onlyReader(quantizedOutput), Self.activationFunctions.contains(next.opType),
               next.inputs.first == quantizedOutput, let fusedOut = next.outputs.first, !fusedOut.isEmpty {
                quantizedOutput = fusedOut
            }
            if let floatOp = floatOnlyReader(quantizedOutput) {
                floats.append(FloatTensor(name: quantizedOutput, layer: layerName, floatOp: floatOp.opType,
                                          reason: "feeds \(floatOp.opType) '\(floatOp.displayName)', which runs in float"))
                continue
            }
            claim(quantizedOutput, role: .activation, layer: layerName)
        }
        return (entries, floats)
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
        // A layer with an activation fused in by GraphOptimizer outputs what the activation outputs.
        if let (op, params) = node.fusedActivation {
            return Self.alwaysNonNegative.contains(op) || (op == "Clip" && (params.first ?? -.infinity) >= 0)
        }
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

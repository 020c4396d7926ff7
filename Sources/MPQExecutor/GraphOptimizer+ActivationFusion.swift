import MPQGraph
import MPQKernels

/// Activation fusion: an element-wise activation that directly follows a Conv, Gemm or MatMul is
/// folded into that layer, which then applies it in its epilogue (per im2col/GEMM tile while the
/// data is in cache, inside the kernel for depthwise convolutions). A float Add, Sub, Mul or Div
/// (a residual connection's `Relu(x + f(x))`) absorbs it too, applying it to each piece of its
/// result while that piece is in cache instead of a second pass over the tensor.
///
/// Fused: Relu, Clip (constant bounds), LeakyRelu, HardSigmoid, HardSwish, Sigmoid and Tanh, when
/// the layer's output has exactly that one reader and is not a graph output. The layer takes the
/// activation's output name and gets the internal attributes
/// - `mpq_activation`: the activation's op type (a string), and
/// - `mpq_activation_params`: its parameters (floats; see `Node.fusedActivation`).
///
/// Consequences:
/// - The pre-activation tensor is no longer observable: no value carries it, so hooks and caches
///   cannot see it. Quantization hooks attach to the post-activation output (the layer's output
///   name is now the activation's), which is the quantization policy anyway.
/// - The fused layer is not a standard ONNX node any more. An exporter must un-fuse it: emit the
///   layer writing a fresh intermediate name, then the activation as its own node (op type and
///   parameters from `Node.fusedActivation`) writing the layer's output name, and drop the two
///   `mpq_` attributes.
/// - Results are bit-identical to the unfused graph: the epilogue computes the same float
///   expressions as the stand-alone operators (both use `MPQKernels.Activation`).
extension GraphOptimizer {
    /// Op types a layer can absorb, and the ones that can absorb them.
    static let fusibleActivations: Set<String> = ["Relu", "Clip", "LeakyRelu", "HardSigmoid", "HardSwish", "Sigmoid", "Tanh"]
    static let activationHosts: Set<String> = ["Conv", "Gemm", "MatMul"]
    /// Element-wise hosts: they take an activation only when an operand is known to be float32 (the operator runs
    /// int64 arithmetic too, where an activation has no kernel).
    static let elementwiseActivationHosts: Set<String> = ["Add", "Sub", "Mul", "Div"]
    /// Ops whose outputs are float32 whatever their inputs: ONNX defines them on float types only (not Gemm or
    /// MatMul, which also take integers).
    static let floatProducers: Set<String> = [
        "Conv", "BatchNormalization", "LayerNormalization", "Softmax", "AveragePool", "GlobalAveragePool",
        "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "LeakyRelu", "Erf", "Sqrt", "Exp",
    ]

    /// Fuses activations into the preceding layers; returns how many were fused.
    func fuseActivations(_ graph: inout Graph) throws -> Int {
        let consumers = graph.consumers()
        let producers = graph.producers()
        let graphOutputs = Set(graph.outputs.map(\.name))
        let floatInputs = Set(graph.inputs.filter { $0.elementType == .float32 }.map(\.name))
        var removeNodes = Set<Int>()
        var fused = 0
        for (actIndex, act) in graph.nodes.enumerated()
        where Self.fusibleActivations.contains(act.opType) && act.domain.isEmpty {
            guard let source = act.inputs.first, !source.isEmpty, act.outputs.count == 1, !act.outputs[0].isEmpty,
                  let layerIndex = producers[source], !removeNodes.contains(layerIndex),
                  consumers[source]?.count == 1, !graphOutputs.contains(source) else { continue }
            var layer = graph.nodes[layerIndex]
            guard Self.activationHosts.contains(layer.opType) || isFloatElementwise(layer, graph, producers, floatInputs: floatInputs),
                  layer.domain.isEmpty,
                  layer.outputs.count == 1, layer.outputs[0] == source,
                  layer.attributes[Node.fusedActivationKey] == nil,
                  let params = try activationParameters(act, graph) else { continue }
            layer.attributes[Node.fusedActivationKey] = .string(act.opType)
            layer.attributes[Node.fusedActivationParamsKey] = .floats(params)
            layer.outputs[0] = act.outputs[0]
            graph.nodes[layerIndex] = layer
            removeNodes.insert(actIndex)
            fused += 1
        }
        graph.removeNodes(at: removeNodes)
        return fused
    }

    /// Whether `node` is an element-wise host with an operand known to be float32 (a float32 initializer or graph
    /// input, or the output of a float-only op); both operands of these ops share one element type.
    private func isFloatElementwise(_ node: Node, _ graph: Graph, _ producers: [String: Int], floatInputs: Set<String>) -> Bool {
        guard Self.elementwiseActivationHosts.contains(node.opType), node.inputs.count == 2 else { return false }
        return node.inputs.contains { name in
            if let t = graph.initializers[name] { return t.elementType == .float32 }
            if floatInputs.contains(name) { return true }
            guard let p = producers[name] else { return false }
            let producer = graph.nodes[p]
            return producer.domain.isEmpty && Self.floatProducers.contains(producer.opType)
        }
    }

    /// The parameters to store for a fusible activation node, or nil when it cannot be fused
    /// (a Clip whose bounds are not constant scalars).
    private func activationParameters(_ node: Node, _ graph: Graph) throws -> [Float]? {
        switch node.opType {
        case "Relu", "HardSwish", "Sigmoid", "Tanh":
            return node.inputs.count == 1 ? [] : nil
        case "LeakyRelu":
            return [try node.float("alpha", default: 0.01)]
        case "HardSigmoid":
            return [try node.float("alpha", default: 0.2), try node.float("beta", default: 0.5)]
        case "Clip":
            if graph.opsetVersion < 11 {
                guard node.inputs.count == 1 else { return nil }
                return [try node.float("min", default: -Float.infinity), try node.float("max", default: Float.infinity)]
            }
            func bound(_ i: Int, _ absent: Float) -> Float? {
                guard i < node.inputs.count, !node.inputs[i].isEmpty else { return absent }
                guard let t = graph.initializers[node.inputs[i]], t.elementType == .float32, t.count == 1 else { return nil }
                return t.asFloats.first
            }
            guard node.inputs.count <= 3, let lo = bound(1, -Float.infinity), let hi = bound(2, Float.infinity) else { return nil }
            return [lo, hi]
        default:
            return nil
        }
    }
}

extension Node {
    /// Attribute naming an activation fused into a Conv, Gemm, MatMul or float Add/Sub/Mul/Div by the graph optimizer.
    public static let fusedActivationKey = "mpq_activation"
    /// Attribute holding the fused activation's parameters.
    public static let fusedActivationParamsKey = "mpq_activation_params"

    /// The activation fused into this layer by `GraphOptimizer` (nil when none), so an exporter
    /// can emit it as its own node again. Parameters by op type:
    /// Relu, HardSwish, Sigmoid, Tanh: `[]`; LeakyRelu: `[alpha]`; HardSigmoid: `[alpha, beta]`;
    /// Clip: `[min, max]` (±infinity for an absent bound).
    public var fusedActivation: (opType: String, params: [Float])? {
        guard case .string(let op)? = attributes[Node.fusedActivationKey] else { return nil }
        if case .floats(let p)? = attributes[Node.fusedActivationParamsKey] { return (op, p) }
        return (op, [])
    }
}

/// The fused activation a layer operator must apply, validated at compile time.
func fusedActivation(_ context: OperatorContext) throws -> Activation {
    guard context.node.attributes[Node.fusedActivationKey] != nil else { return .none }
    guard let (op, p) = context.node.fusedActivation else {
        throw context.invalid("attribute '\(Node.fusedActivationKey)' must be a string naming an activation")
    }
    func need(_ n: Int) throws {
        guard p.count == n else {
            throw context.invalid("fused activation \(op) needs \(n) parameter(s) in '\(Node.fusedActivationParamsKey)', found \(p)")
        }
    }
    switch op {
    case "Relu": try need(0); return .relu
    case "HardSwish": try need(0); return .hardSwish
    case "Sigmoid": try need(0); return .sigmoid
    case "Tanh": try need(0); return .tanh
    case "LeakyRelu": try need(1); return .leakyRelu(alpha: p[0])
    case "HardSigmoid": try need(2); return .hardSigmoid(alpha: p[0], beta: p[1])
    case "Clip": try need(2); return .clip(min: p[0], max: p[1])
    default: throw context.invalid("fused activation '\(op)' is not supported")
    }
}

extension GraphOptimizer {
    /// The inverse of activation fusion, for exporters and comparisons: every layer carrying a
    /// fused activation writes a fresh intermediate value again, read by a stand-alone activation
    /// node (named `<layer>_activation`) that writes the layer's former output. Clip bounds become
    /// initializers at opset ≥ 11 and attributes before; the `mpq_` attributes are dropped.
    public static func unfuseActivations(_ input: Graph) -> Graph {
        var graph = input
        var names = FreshNames(graph)
        func fresh(_ base: String) -> String { names.fresh(base) }
        var nodes: [Node] = []
        for var node in graph.nodes {
            guard let (op, params) = node.fusedActivation else { nodes.append(node); continue }
            node.attributes[Node.fusedActivationKey] = nil
            node.attributes[Node.fusedActivationParamsKey] = nil
            let output = node.outputs[0]
            let intermediate = fresh(output + "_preactivation")
            node.outputs[0] = intermediate
            nodes.append(node)
            var act = Node(name: node.name.isEmpty ? "" : fresh(node.name + "_activation"), opType: op,
                           inputs: [intermediate], outputs: [output])
            switch op {
            case "LeakyRelu": act.attributes["alpha"] = .float(params.first ?? 0.01)
            case "HardSigmoid":
                act.attributes["alpha"] = .float(params.first ?? 0.2)
                act.attributes["beta"] = .float(params.count > 1 ? params[1] : 0.5)
            case "Clip":
                let lo = params.first ?? -Float.infinity, hi = params.count > 1 ? params[1] : Float.infinity
                if graph.opsetVersion < 11 {
                    act.attributes["min"] = .float(lo)
                    act.attributes["max"] = .float(hi)
                } else {
                    let loName = fresh(output + "_clip_min"), hiName = fresh(output + "_clip_max")
                    graph.initializers[loName] = Tensor(shape: [], floats: [lo])
                    graph.initializers[hiName] = Tensor(shape: [], floats: [hi])
                    act.inputs += [loName, hiName]
                }
            default: break
            }
            nodes.append(act)
        }
        graph.nodes = nodes
        return graph
    }
}

import MPQGraph
import MPQPlanner
import MPQQuantization

/// Tensors that must share one candidate: a layer's weight and the activations it owns.
public struct QuantizerGroup: Sendable, Codable, Equatable {
    /// The group's name: its (first) layer.
    public var name: String
    /// Layer nodes in the group (more than one for layers sharing a weight).
    public var layers: [String]
    /// Op types for the profile's support table (Conv with one input channel per group is "DepthwiseConv").
    public var opTypes: [String]
    /// Quantized tensors of the group, as the policy lists them.
    public var tensors: [QuantizedTensor]
}

/// Groups plus the equalities between them that the hardware demands.
public struct QuantizerGrouping: Sendable {
    public var groups: [QuantizerGroup]
    /// Sets of group indices that must take the same candidate.
    public var ties: [[Int]]
    /// Why each tie exists, for reports.
    public var tieReasons: [String]

    /// Groups the policy's tensors of `graph`.
    ///
    /// Each quantized layer (Conv/Gemm/MatMul/Gather) owns its weight and the activation it produces; an
    /// activation no layer produces (a graph input, an Add output) belongs to the first layer that
    /// reads it. A layer without a weight forms its own group when it owns an activation. Layers reading the same weight form one group. When `equalPrecisionOps` names an op
    /// type (e.g. Add), the groups owning that op's input activations are tied.
    ///
    /// `floatTensors` are layer outputs the policy keeps in float (they feed a float-only op): an equal-precision op
    /// reading one has a float input, which ties nothing (a transformer's residual Add of a projection's output).
    public init(graph: Graph, tensors: [QuantizedTensor], equalPrecisionOps: Set<String> = [],
                floatTensors: Set<String> = []) throws {
        let producers = graph.producers()
        var layerIndex: [String: Int] = [:]   // layer node name -> group
        var groups: [QuantizerGroup] = []
        var groupOfTensor: [String: Int] = [:]
        let nodeByName = Dictionary(graph.nodes.map { ($0.displayName, $0) }, uniquingKeysWith: { a, _ in a })

        // Weights first: one group per distinct weight, joining every layer that reads it.
        for t in tensors {
            guard case .weight = t.role else { continue }
            let index = groups.count
            let opTypes = t.layers.compactMap { nodeByName[$0] }.map { Self.opType(of: $0, graph: graph) }
            groups.append(QuantizerGroup(name: t.layer, layers: t.layers, opTypes: Array(Set(opTypes)).sorted(), tensors: [t]))
            for layer in t.layers { layerIndex[layer] = index }
            groupOfTensor[t.name] = index
        }
        // Activations: the producing layer's group (through a fused or following activation function), else the first reader's.
        for t in tensors {
            guard case .activation = t.role else { continue }
            var owner: Int? = nil
            if let p = producers[t.name] {
                let node = graph.nodes[p]
                if let g = layerIndex[node.displayName] {
                    owner = g
                } else if QuantizationPolicy.activationFunctions.contains(node.opType),
                          let source = node.inputs.first, let q = producers[source], let g = layerIndex[graph.nodes[q].displayName] {
                    owner = g
                }
            }
            // The producing layer, else the first reading layer, owns the activation.
            let producingLayer = producers[t.name].map { graph.nodes[$0].displayName }.flatMap { t.layers.contains($0) ? $0 : nil }
            if owner == nil, producingLayer == nil { owner = t.layers.lazy.compactMap { layerIndex[$0] }.first }
            if owner == nil, let layer = producingLayer ?? t.layers.first, let node = nodeByName[layer] {
                // A layer without a weight (an activation-activation MatMul) gets its own group.
                owner = groups.count
                groups.append(QuantizerGroup(name: layer, layers: [layer], opTypes: [Self.opType(of: node, graph: graph)], tensors: []))
                layerIndex[layer] = owner
            }
            guard let g = owner else {
                throw SensitivityError.ungroupedTensor(t.name)
            }
            groups[g].tensors.append(t)
            groupOfTensor[t.name] = g
        }

        // Ties: inputs of equal-precision ops (Add, Concat, ...) must share a precision.
        var union = Array(groups.indices)
        func find(_ x: Int) -> Int { var x = x; while union[x] != x { x = union[x] }; return x }
        var reasons: [String] = []
        for node in graph.nodes where equalPrecisionOps.contains(node.opType) {
            let owners = node.inputs.compactMap { input -> Int? in
                if let g = groupOfTensor[input] { return g }
                // Follow the input back to the quantized tensor that feeds it (through pass-through ops).
                var name = input
                while let p = producers[name], let first = graph.nodes[p].inputs.first,
                      ["Relu", "Clip", "Identity", "Reshape", "Flatten", "MaxPool"].contains(graph.nodes[p].opType) {
                    name = first
                    if let g = groupOfTensor[name] { return g }
                }
                if !floatTensors.contains(name), let p = producers[name], let g = layerIndex[graph.nodes[p].displayName] { return g }
                return nil
            }
            let distinct = Array(Set(owners.map(find))).sorted()
            guard distinct.count > 1 else { continue }
            for g in distinct.dropFirst() { union[find(g)] = find(distinct[0]) }
            reasons.append("\(node.opType) '\(node.displayName)' needs equal input precision")
        }
        var sets: [Int: [Int]] = [:]
        for g in groups.indices { sets[find(g), default: []].append(g) }
        self.groups = groups
        self.ties = sets.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
        self.tieReasons = reasons
    }

    /// The profile op type of a layer node.
    public static func opType(of node: Node, graph: Graph) -> String {
        if node.opType == "Conv", let group = try? node.int("group", default: 1), group > 1,
           node.inputs.count > 1, let w = graph.initializers[node.inputs[1]], w.rank >= 2, w.shape[1] == 1 {
            return "DepthwiseConv"
        }
        return node.opType
    }
}

/// Errors building groups or measuring sensitivities.
public enum SensitivityError: Error, CustomStringConvertible, Equatable {
    case ungroupedTensor(String)
    case noCommonCandidate(group: String, opTypes: [String])
    case cacheUnreadable(path: String, reason: String)
    case cacheWriteFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .ungroupedTensor(let name):
            return "activation '\(name)' is neither produced nor read by a quantized layer, so it belongs to no quantizer group"
        case let .noCommonCandidate(group, opTypes):
            return "quantizer group '\(group)' has ops \(opTypes.joined(separator: ", ")) with no candidate in common in the hardware profile; add a candidate that all of them support to the profile's op_support"
        case let .cacheUnreadable(path, reason):
            return "sensitivity cache \(path) is unreadable (\(reason)); delete it to measure again"
        case let .cacheWriteFailed(path, reason):
            return "cannot write sensitivity cache \(path): \(reason)"
        }
    }
}

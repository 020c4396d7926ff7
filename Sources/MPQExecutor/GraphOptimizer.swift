import MPQGraph

/// Load-time simplifications that leave a graph's outputs unchanged:
/// Identity/Dropout removal, constant folding, BatchNormalization folding, dead-node removal, Pad
/// fusion into the following Conv, MatMul bias and transpose, erf-GELU, Softmax-input and residual-Add fusion,
/// and activation fusion into the preceding layer. `unfuse` turns the fused nodes back into standard ONNX for exporters.
public struct GraphOptimizer {
    /// What the optimizer did, for `mpq inspect` and logs.
    public struct Report: Sendable, Equatable {
        public var removedIdentities = 0
        public var foldedConstants = 0
        public var foldedBatchNorms = 0
        public var removedDeadNodes = 0
        /// Activations fused into the preceding Conv / Gemm / MatMul (see `fuseActivations`).
        public var fusedActivations = 0
        /// Zero Pads folded into the following Conv's `pads` (see `fusePads`).
        public var fusedPads = 0
        /// Constant bias Adds fused into the preceding MatMul (see `fuseMatMulBiases`).
        public var fusedBiases = 0
        /// Transposes read in place by the MatMul after them (see `fuseMatMulTransposes`).
        public var fusedTransposes = 0
        /// Residual Adds summed inside the LayerNormalization after them (see `fuseResidualAdds`).
        public var fusedResiduals = 0
        /// Erf-form GELUs fused into one node each (see `fuseGelus`).
        public var fusedGelus = 0
        /// Softmax nodes that absorbed the scale and mask before them (see `fuseSoftmaxInputs`).
        public var fusedSoftmaxInputs = 0
        public init() {}
    }

    public init() {}

    /// The domain of the executor's internal fused operators.
    public static let internalDomain = "ai.mpq"

    /// Returns the optimized graph and what was done.
    public func optimize(_ input: Graph) throws -> (Graph, Report) {
        var graph = input
        var report = Report()
        report.removedIdentities = removeIdentities(&graph)
        report.foldedConstants = try foldConstants(&graph)
        report.foldedBatchNorms = try foldBatchNorms(&graph)
        report.removedDeadNodes = removeDeadNodes(&graph)
        report.fusedPads = try fusePads(&graph)
        report.fusedBiases = try fuseMatMulBiases(&graph)
        report.fusedTransposes = try fuseMatMulTransposes(&graph)
        report.fusedResiduals = try fuseResidualAdds(&graph)
        report.fusedGelus = try fuseGelus(&graph)
        report.fusedSoftmaxInputs = try fuseSoftmaxInputs(&graph)
        report.fusedActivations = try fuseActivations(&graph)
        // Drop initializers only the fused nodes read (constant Clip bounds, Pad amounts).
        _ = removeDeadNodes(&graph)
        return (graph, report)
    }

    /// A graph without the optimizer's fusions, as standard ONNX for exporters: activations, MatMul biases and
    /// operand transposes, GELUs, Softmax inputs and residual Adds written as their own nodes again (activations
    /// first: a layer's bias comes before them).
    public static func unfuse(_ graph: Graph) -> Graph {
        unfuseResidualAdds(unfuseMatMulTransposes(unfuseSoftmaxInputs(unfuseGelus(unfuseMatMulBiases(unfuseActivations(graph))))))
    }

    /// Rewires readers of Identity (and inference-mode Dropout) outputs to their inputs.
    func removeIdentities(_ graph: inout Graph) -> Int {
        let graphOutputs = Set(graph.outputs.map(\.name))
        var rename: [String: String] = [:]
        var kept: [Node] = []
        var removed = 0
        for var node in graph.nodes {
            node.inputs = node.inputs.map { rename[$0] ?? $0 }
            let isPassThrough = node.opType == "Identity"
                || (node.opType == "Dropout" && node.outputs.dropFirst().allSatisfy(\.isEmpty) && !dropoutTrains(node, graph))
            if isPassThrough, node.domain.isEmpty, let source = node.inputs.first, !source.isEmpty,
               let output = node.outputs.first, !graphOutputs.contains(output) {
                rename[output] = source
                removed += 1
                continue
            }
            kept.append(node)
        }
        graph.nodes = kept
        return removed
    }

    /// Whether a Dropout node is asked to train (a constant true `training_mode` input).
    private func dropoutTrains(_ node: Node, _ graph: Graph) -> Bool {
        guard node.inputs.count > 2, !node.inputs[2].isEmpty else { return false }
        guard let mode = graph.initializers[node.inputs[2]] else { return true }
        return mode.asFloats.first.map { $0 != 0 } ?? false
    }

    /// Evaluates every node whose inputs are all constants and stores its outputs as initializers.
    func foldConstants(_ graph: inout Graph) throws -> Int {
        let graphOutputs = Set(graph.outputs.map(\.name))
        var kept: [Node] = []
        var folded = 0
        for node in graph.nodes {
            let present = node.inputs.filter { !$0.isEmpty }
            let allConstant = present.allSatisfy { graph.initializers[$0] != nil }
            let outputsInternal = node.outputs.allSatisfy { !graphOutputs.contains($0) }
            guard allConstant, outputsInternal, node.domain.isEmpty,
                  let type = OperatorRegistry.operators[node.opType] else {
                kept.append(node)
                continue
            }
            let constants = node.inputs.map { $0.isEmpty ? nil : graph.initializers[$0] }
            let context = OperatorContext(
                node: node, opset: graph.opsetVersion,
                inputTypes: constants.map { $0.map { TensorType($0.elementType, $0.shape) } },
                constants: constants)
            let op = try type.init(context)
            let outputs = try op.run(constants)
            for (name, value) in zip(node.outputs, outputs) where !name.isEmpty {
                graph.initializers[name] = value
            }
            folded += 1
        }
        graph.nodes = kept
        return folded
    }

    /// Removes nodes whose outputs nothing reads, and initializers nothing reads.
    func removeDeadNodes(_ graph: inout Graph) -> Int {
        var live = Set(graph.outputs.map(\.name))
        var keep = [Bool](repeating: false, count: graph.nodes.count)
        for i in graph.nodes.indices.reversed() {
            let node = graph.nodes[i]
            if node.outputs.contains(where: live.contains) {
                keep[i] = true
                live.formUnion(node.inputs.filter { !$0.isEmpty })
            }
        }
        let removed = keep.filter { !$0 }.count
        graph.nodes = graph.nodes.indices.filter { keep[$0] }.map { graph.nodes[$0] }
        graph.initializers = graph.initializers.filter { live.contains($0.key) }
        return removed
    }
}

/// Which node produces and which nodes read each value of a graph, as fusion passes look them up.
struct ValueLinks {
    let consumers: [String: [Int]]
    let producers: [String: Int]
    let graphOutputs: Set<String>

    init(_ graph: Graph) {
        consumers = graph.consumers()
        producers = graph.producers()
        graphOutputs = Set(graph.outputs.map(\.name))
    }

    /// The index of the node producing `value` when `value` is internal (not a graph output), node `reader` alone
    /// reads it, and its producer is not among `removed` (already fused into another node).
    func soleProducer(of value: String, readBy reader: Int, excluding removed: Set<Int>) -> Int? {
        guard !graphOutputs.contains(value), consumers[value] == [reader], let p = producers[value],
              !removed.contains(p) else { return nil }
        return p
    }

    /// The index of the one node reading `value` when `value` is internal, read by that node alone, and the reader
    /// is not among `removed`.
    func soleReader(of value: String, excluding removed: Set<Int>) -> Int? {
        guard !graphOutputs.contains(value), let readers = consumers[value], readers.count == 1,
              !removed.contains(readers[0]) else { return nil }
        return readers[0]
    }
}

extension Graph {
    /// Drops the nodes at `indices`, keeping the others in order (what each fusion pass does last).
    mutating func removeNodes(at indices: Set<Int>) {
        guard !indices.isEmpty else { return }
        nodes = nodes.indices.filter { !indices.contains($0) }.map { nodes[$0] }
    }
}

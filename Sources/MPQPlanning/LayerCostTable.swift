import MPQExecutor
import MPQGraph
import MPQPlanner
import MPQQuantization
import MPQSensitivity

/// Per-sample costs of a graph's layers (parameters, MACs, activations read and written), from a batch-1 compile.
struct LayerCostTable {
    let graph: Graph
    let tensors: [QuantizedTensor]
    let plan: ExecutionPlan
    let statistics: [String: LayerStatistics]
    let nodes: [String: Node]
    /// Samples in the compiled batch (the model's fixed batch size, else 1).
    let batch: Int

    init(graph: Graph, tensors: [QuantizedTensor], sampleShapes: [String: [Int]]) throws {
        self.graph = graph
        self.tensors = tensors
        // A model that fixes its batch size may bake it into shapes: compile at that size, count per sample.
        let batch = graph.fixedBatchSize ?? 1
        self.batch = batch
        plan = try ExecutionPlan(graph: graph, inputShapes: sampleShapes.mapValues { [batch] + $0 })
        statistics = Dictionary(plan.layerStatistics().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        nodes = Dictionary(graph.nodes.map { ($0.displayName, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The cost of the layer named `name`.
    func cost(_ name: String) -> LayerCost {
        let s = statistics[name]
        let node = nodes[name]
        // Activations read: every non-constant input (both operands of an activation-activation MatMul).
        let inputElements = node.map { n in
            n.inputs.filter { !$0.isEmpty && graph.initializers[$0] == nil }.compactMap { plan.type(of: $0)?.count }.reduce(0, +) / batch
        } ?? 0
        let weightEntry = tensors.first { $0.role != .activation && $0.layers.contains(name) }
        let weight = weightEntry.flatMap { graph.initializers[$0.name] }
        // Per-channel scales: one per slice along the weight's channel axis.
        var channels = s?.outputShape.count ?? 0 > 1 ? s!.outputShape[1] : (s?.outputShape.last ?? 1)
        if case .weight(let axis?)? = weightEntry?.role, let w = weight, axis < w.rank { channels = w.shape[axis] }
        return LayerCost(name: name, opType: node.map { QuantizerGrouping.opType(of: $0, graph: graph) } ?? "?",
                         parameters: weight?.count ?? 0, outputChannels: channels, macs: (s?.macs ?? 0) / batch,
                         inputElements: inputElements, outputElements: (s.map { Tensor.count(of: $0.outputShape) } ?? 0) / batch)
    }
}

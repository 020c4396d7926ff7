import MPQGraph
import MPQLAPQ

/// The digits CNN with explicit biases, its W4 weight quantizers (min-max steps) and their bias-correction plan.
enum BiasCorrectionFixture {
    static func digitsW4A8() throws -> (graph: Graph, plan: BiasCorrectionPlan, quantizers: [TensorQuantizer]) {
        let data = try ExampleData("digits", samples: 32)
        let graph = data.graph.withExplicitBiases()
        let targets = try QuantizationRecipe(bits: BitWidths(weight: 4, activation: 8)).targets(in: graph)
        let session = try CalibrationSession(graph: graph, inputs: data.inputs, batchSize: 32)
        let weights = targets.filter { $0.role == .weight }
        let plan = try BiasCorrectionPlan(graph: graph, session: session, weights: weights.map(\.name))
        var probe = try CalibrationSession(graph: graph, inputs: data.inputs, batchSize: 32)
        var s = session
        var options = StepSearch.Options()
        options.initialization = .minMax
        options.joint = nil
        let quantizers = try StepSearch(options: options, loss: { _ in 0 }).run(weights, session: &s, probe: &probe).quantizers
        return (graph, plan, quantizers)
    }
}

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
        return (graph, plan, try minMaxQuantizers(weights, session: session))
    }

    /// Min-max quantizers of `targets` (no p sweep, no joint search), from `session`'s values.
    static func minMaxQuantizers(_ targets: [QuantizerTarget], session: CalibrationSession) throws -> [TensorQuantizer] {
        var (fit, probe) = (session, session)
        var options = StepSearch.Options()
        options.initialization = .minMax
        options.joint = nil
        return try StepSearch(options: options, loss: { _ in 0 }).run(targets, session: &fit, probe: &probe).quantizers
    }
}

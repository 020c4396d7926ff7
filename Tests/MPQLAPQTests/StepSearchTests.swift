import Foundation
import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQQuantization
import Testing

private func crossEntropy(_ data: ExampleData, output: String) -> @Sendable ([String: Tensor]) -> Double {
    let labels = data.labels
    return { outputs in (try? CalibrationLoss.crossEntropy(logits: outputs[output]!, labels: labels)) ?? .infinity }
}

@Test func bitWidthsParse() {
    #expect(BitWidths("W4A8") == BitWidths(weight: 4, activation: 8))
    #expect(BitWidths("w16a16") == BitWidths(weight: 16, activation: 16))
    #expect(BitWidths("W1A8") == nil)
    #expect(BitWidths("W4") == nil)
    #expect(BitWidths("4A8") == nil)
}

/// Cached re-runs give exactly the outputs of full runs with the same hooks.
@Test func cachedEvaluationEqualsFullEvaluation() throws {
    let data = try ExampleData("digits", samples: 64)
    let targets = try QuantizationRecipe(bits: BitWidths(weight: 4, activation: 4)).targets(in: data.graph)
    var cached = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 32)
    var full = cached
    full.reusesActivations = false
    var probe = try CalibrationSession(graph: data.graph, inputs: cached.batches[0], batchSize: 32)
    var options = StepSearch.Options()
    options.initialization = .minMax
    options.joint = nil
    let search = StepSearch(options: options, loss: crossEntropy(data, output: data.graph.outputs[0].name))
    let quantizers = try search.run(targets, session: &cached, probe: &probe).quantizers
    let biases = BiasQuantization(graph: data.graph)
    var settings = StepSearch.settings(quantizers, biases: biases)
    let first = try cached.evaluate(settings)
    // Change one weight's steps: the cached path re-runs only downstream of it.
    let weight = quantizers.firstIndex { $0.role == .weight }!
    var multipliers = [Double](repeating: 1, count: quantizers.count)
    multipliers[weight] = 0.7
    settings = StepSearch.settings(quantizers, multipliers: multipliers, biases: biases)
    let viaCache = try cached.evaluate(settings, from: first)
    let viaFull = try full.evaluate(settings)
    let name = data.graph.outputs[0].name
    #expect(CalibrationSession.joinedOutputs(viaCache, name: name) == CalibrationSession.joinedOutputs(viaFull, name: name))
    // Without kept activations the hooks quantize in place; keeping them, out of place: the same values.
    let unkept = try cached.outputs(settings).compactMap { $0[name] }
    #expect(Tensor.concatenate(axis0: unkept) == CalibrationSession.joinedOutputs(viaFull, name: name))
    #expect(cached.statistics.nodesRun < full.statistics.nodesRun + cached.statistics.nodesTotal)
}

/// The LAPQ pipeline: 10 values of p in [2, 4], p* inside the range, Powell never worse than its start,
/// and the reported loss is the loss of the returned steps.
@Test func lapqSearchOnDigits() throws {
    let data = try ExampleData("digits", samples: 64)
    let targets = try QuantizationRecipe(bits: BitWidths(weight: 4, activation: 4)).targets(in: data.graph)
    var session = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 64)
    var probe = try CalibrationSession(graph: data.graph, inputs: session.batches[0], batchSize: 64)
    var options = StepSearch.Options()
    options.maxEvaluations = 60
    let loss = crossEntropy(data, output: data.graph.outputs[0].name)
    let result = try StepSearch(options: options, loss: loss).run(targets, session: &session, probe: &probe)
    #expect(result.report.sweep.count == 10)
    #expect(result.report.sweep.first?[0] == 2 && result.report.sweep.last?[0] == 4)
    let pStar = try #require(result.report.pStar)
    #expect((2...4).contains(pStar))
    let after = try #require(result.report.lossAfterJoint)
    #expect(after <= result.report.lossAfterInitialization)
    #expect(try #require(result.report.jointEvaluations) <= 60)
    // Re-evaluate the returned steps from scratch.
    var fresh = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 64)
    let state = try fresh.evaluate(StepSearch.settings(result.quantizers, multipliers: result.multipliers,
                                                       biases: BiasQuantization(graph: data.graph)))
    #expect(abs(StepSearch(options: options, loss: loss).loss(of: state, in: fresh) - result.loss) < 1e-9)
}

/// Bias correction adds a bias to every Conv/Gemm that lacks one and corrects each quantized layer.
@Test func biasCorrectionCoversEveryLayer() throws {
    let (graph, plan, quantizers) = try BiasCorrectionFixture.digitsW4A8()
    for node in graph.nodes where node.opType == "Conv" || node.opType == "Gemm" {
        #expect(node.inputs.count == 3 && graph.initializers[node.inputs[2]] != nil)
    }
    let settings = StepSearch.settings(quantizers, biasCorrection: plan, biases: BiasQuantization(graph: graph))
    #expect(settings.count == 2 * quantizers.count)
}

/// Conv/Gemm biases go on their int32 grid exactly when the layer's weight and input are both quantized,
/// the input found through data-movement ops (digits' Gemm reads a Flatten).
@Test func int32BiasesNeedQuantizedWeightAndInput() throws {
    let data = try ExampleData("digits", samples: 32)
    let graph = data.graph
    let biases = BiasQuantization(graph: graph)
    let layers = graph.nodes.filter { ($0.opType == "Conv" || $0.opType == "Gemm") && $0.inputs.count == 3 }
    #expect(biases.links.map(\.bias) == layers.map { $0.inputs[2] })
    let gemm = try #require(biases.links.last)
    #expect(gemm.inputChain.count == 2 && graph.nodes.contains { $0.opType == "Flatten" && $0.outputs == [gemm.inputChain[0]] })

    let targets = try QuantizationRecipe(bits: BitWidths(weight: 8, activation: 8)).targets(in: graph)
    let session = try CalibrationSession(graph: graph, inputs: data.inputs, batchSize: 32)
    let quantizers = try BiasCorrectionFixture.minMaxQuantizers(targets, session: session)
    let byName = Dictionary(quantizers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let grids = biases.grids(byName.mapValues(\.base))
    #expect(Set(grids.keys) == Set(biases.links.map(\.bias)))
    for link in biases.links {
        let input = try #require(link.inputChain.lazy.compactMap { byName[$0] }.first)
        let weight = try #require(byName[link.weight])
        #expect(grids[link.bias]?.scales == weight.base.scales.map { input.base.scales[0] * $0 })
        // The hook rounds the bias to that grid.
        let bias = try #require(graph.initializers[link.bias])
        let hooked = StepSearch.settings(quantizers, biases: biases)[link.bias]!.transform(bias)
        #expect(hooked.asFloats == (try grids[link.bias]!.fakeQuantize(bias.asFloats)))
        #expect(hooked.asFloats != bias.asFloats)
    }
    // Weights alone (inputs float): biases stay float; and `.none` keeps them float everywhere.
    let weightsOnly = quantizers.filter { $0.role == .weight }
    #expect(StepSearch.settings(weightsOnly, biases: biases).count == weightsOnly.count)
    #expect(StepSearch.settings(quantizers, biases: .none).count == quantizers.count)
}

/// Early stopping: the report lists the evaluations after which the held-out loss improved, the search stops
/// `patience` evaluations after the last of them at the latest, and the steps returned are that point's (their
/// held-out loss is the lowest seen). Without held-out samples there is nothing to list.
@Test func refinementReportsItsHeldOutGains() throws {
    let data = try ExampleData("digits", samples: 64)
    let targets = try QuantizationRecipe(bits: BitWidths(weight: 4, activation: 4)).targets(in: data.graph)
    let fitInputs = data.inputs.mapValues { $0.slice(axis0: 0..<48) }
    let heldInputs = data.inputs.mapValues { $0.slice(axis0: 48..<64) }
    var fit = try CalibrationSession(graph: data.graph, inputs: fitInputs, batchSize: 48)
    var probe = try CalibrationSession(graph: data.graph, inputs: fitInputs, batchSize: 48)
    let output = data.graph.outputs[0].name
    let fitLabels = Array(data.labels.prefix(48)), heldLabels = Array(data.labels.suffix(16))
    let fitLoss: @Sendable ([String: Tensor]) -> Double = { (try? CalibrationLoss.crossEntropy(logits: $0[output]!, labels: fitLabels)) ?? .infinity }
    let heldLoss: @Sendable ([String: Tensor]) -> Double = { (try? CalibrationLoss.crossEntropy(logits: $0[output]!, labels: heldLabels)) ?? .infinity }
    var initial = StepSearch.Options()
    initial.initialization = .minMax
    initial.joint = nil
    let quantizers = try StepSearch(options: initial, loss: fitLoss).run(targets, session: &fit, probe: &probe).quantizers

    var options = StepSearch.Options()
    options.maxEvaluations = 400
    options.patience = 6
    let holdout = Holdout(session: try CalibrationSession(graph: data.graph, inputs: heldInputs, batchSize: 16), loss: heldLoss)
    var reported: [(done: Int, total: Int)] = []
    let result = try StepSearch(options: options, loss: fitLoss, progress: { _, done, total in reported.append((done, total)) })
        .refine(quantizers, session: &fit, holdout: holdout)
    let gains = try #require(result.report.heldOutGains)
    let evaluations = try #require(result.report.jointEvaluations)
    #expect(zip(gains, gains.dropFirst()).allSatisfy { $0 < $1 })
    #expect(gains.allSatisfy { (1...evaluations).contains($0) })
    #expect(evaluations - (gains.last ?? 0) <= 6)
    #expect(evaluations < 400, "patience 6 stops long before the budget")
    // Progress ends at the evaluations done, not at the unused budget.
    let last = try #require(reported.last)
    #expect(last.done == evaluations && last.total == evaluations)
    #expect(reported.dropLast().allSatisfy { $0.total == 400 && $0.done <= evaluations })

    // The returned steps' held-out loss is below the starting one exactly when there was a gain.
    let biases = BiasQuantization(graph: data.graph)
    var held = holdout.session
    let heldLossOf = { (m: [Double]?) throws -> Double in
        let state = try held.evaluate(StepSearch.settings(quantizers, multipliers: m, biases: biases))
        return heldLoss([output: CalibrationSession.joinedOutputs(state, name: output)])
    }
    #expect((try heldLossOf(result.multipliers) < heldLossOf(nil)) == !gains.isEmpty)

    let unwatched = try StepSearch(options: options, loss: fitLoss).refine(quantizers, session: &fit)
    #expect(unwatched.report.heldOutGains == nil)
}

/// The joint search visits its coordinates cheapest first: the order sorts the quantizers by the nodes an evaluation
/// along each re-runs (ties in their own order), `graph` keeps their order, and a search stopped within its first
/// line search has moved only the first coordinate of the order.
@Test func jointSearchVisitsTheCheapestCoordinateFirst() throws {
    let data = try ExampleData("digits", samples: 64)
    let targets = try QuantizationRecipe(bits: BitWidths(weight: 4, activation: 4)).targets(in: data.graph)
    var session = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 64)
    var probe = session
    var initial = StepSearch.Options()
    initial.initialization = .minMax
    initial.joint = nil
    let loss = crossEntropy(data, output: data.graph.outputs[0].name)
    let quantizers = try StepSearch(options: initial, loss: loss).run(targets, session: &session, probe: &probe).quantizers
    #expect(quantizers.count >= 6)

    var options = StepSearch.Options()
    #expect(options.coordinateOrder == .graph)
    options.coordinateOrder = .cheapestFirst
    let search = StepSearch(options: options, loss: loss)
    let order = search.coordinateOrder(quantizers, in: session.plan)
    let cost = quantizers.map { session.plan.downstreamNodes(of: [$0.name]).count }
    #expect(order.sorted() == Array(quantizers.indices))
    #expect(zip(order, order.dropFirst()).allSatisfy { (cost[$0], $0) < (cost[$1], $1) })
    #expect(cost[order[0]] < cost[order.last!], "the last layer's steps re-run less than the first layer's")
    options.coordinateOrder = .graph
    #expect(StepSearch(options: options, loss: loss).coordinateOrder(quantizers, in: session.plan) == Array(quantizers.indices))

    // Three evaluations: the start and two points of the first line search, along the cheapest coordinate.
    options.coordinateOrder = .cheapestFirst
    options.maxEvaluations = 3
    let early = try StepSearch(options: options, loss: loss).refine(quantizers, session: &session)
    let moved = early.multipliers.indices.filter { early.multipliers[$0] != 1 }
    #expect(moved.allSatisfy { $0 == order[0] }, "moved \(moved), first coordinate \(order[0])")
}

/// A line-search resolution ends one Powell sweep over every step in far fewer evaluations than the reference's
/// 1e-11 (the steps that gain nothing no longer take dozens each), and the sweep still lowers the loss.
@Test func lineSearchResolutionShortensTheJointSweep() throws {
    let data = try ExampleData("digits", samples: 48)
    let targets = try QuantizationRecipe(bits: BitWidths(weight: 4, activation: 4)).targets(in: data.graph)
    var fit = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 48)
    var probe = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 48)
    let loss = crossEntropy(data, output: data.graph.outputs[0].name)
    var initial = StepSearch.Options()
    initial.initialization = .minMax
    initial.joint = nil
    let start = try StepSearch(options: initial, loss: loss).run(targets, session: &fit, probe: &probe)

    var options = StepSearch.Options()
    options.maxIterations = 1
    let reference = try StepSearch(options: options, loss: loss).refine(start.quantizers, session: &fit)
    options.lineSearchResolution = 1e-2
    let coarse = try StepSearch(options: options, loss: loss).refine(start.quantizers, session: &fit)
    let (slow, fast) = (try #require(reference.report.jointEvaluations), try #require(coarse.report.jointEvaluations))
    // At least a third fewer (99 against 172 here; the ratio moves with the kernels' rounding, which steers the sweep).
    #expect(fast * 3 < slow * 2, "\(fast) vs \(slow) evaluations for one sweep")
    #expect(coarse.loss < start.loss && reference.loss < start.loss)
}

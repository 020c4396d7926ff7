import MPQExecutor
import MPQGraph
@testable import MPQLAPQ
import MPQQuantization
import Testing

/// LAPQ's p sweep ranked on the probe: the same sweep as a search over the probe's samples alone, and the chosen
/// p's quantizers then scored on all calibration data.
@Test(arguments: [StepSearch.Initialization.bestP, .quadratic])
func probeRankedSweepScoresTheChosenPOnAllData(initialization: StepSearch.Initialization) throws {
    let data = try ExampleData("mobilenet-digits", samples: 48)
    let targets = try QuantizationRecipe(bits: BitWidths(weight: 4, activation: 8)).targets(in: data.graph)
    let output = data.graph.outputs[0].name
    func loss(_ labels: [Int]) -> @Sendable ([String: Tensor]) -> Double {
        { outputs in (try? CalibrationLoss.crossEntropy(logits: outputs[output]!, labels: labels)) ?? .infinity }
    }
    var options = StepSearch.Options()
    options.initialization = initialization
    options.joint = nil
    var session = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 16)
    var probe = try CalibrationSession(graph: data.graph, inputs: session.batches[0], batchSize: 16)

    // The reference: an ordinary search whose calibration data is the probe's 16 samples.
    var probeAsData = probe
    var probeForStatistics = probe
    let onProbe = try StepSearch(options: options, loss: loss(Array(data.labels.prefix(16))))
        .run(targets, session: &probeAsData, probe: &probeForStatistics)

    options.probeFinalists = 1
    var search = StepSearch(options: options, loss: loss(data.labels))
    search.probeLoss = loss(Array(data.labels.prefix(16)))
    let found = try search.run(targets, session: &session, probe: &probe)

    #expect(found.report.sweep == onProbe.report.sweep)
    #expect(found.report.pStar == onProbe.report.pStar)
    #expect(found.quantizers.map(\.base) == onProbe.quantizers.map(\.base))
    // The chosen quantizers' loss on all 48 samples, evaluated independently.
    var check = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 16)
    let state = try check.evaluate(StepSearch.settings(onProbe.quantizers, biases: search.biases(in: data.graph)))
    #expect(found.loss == search.loss(of: state, in: check))
    #expect(found.loss != onProbe.loss)
    #expect(found.report.lossAfterInitialization == found.loss)
    #expect(CalibrationSession.joinedOutputs(found.state, name: output).shape.first == 48)
}

/// With finalists, the probe's best three p values are scored on all data and the lowest full loss wins.
@Test func probeFinalistsAreDecidedOnAllData() throws {
    let data = try ExampleData("mobilenet-digits", samples: 48)
    let targets = try QuantizationRecipe(bits: BitWidths(weight: 4, activation: 8)).targets(in: data.graph)
    let output = data.graph.outputs[0].name
    func loss(_ labels: [Int]) -> @Sendable ([String: Tensor]) -> Double {
        { outputs in (try? CalibrationLoss.crossEntropy(logits: outputs[output]!, labels: labels)) ?? .infinity }
    }
    var options = StepSearch.Options()
    options.initialization = .bestP
    options.joint = nil
    var session = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 16)
    var probe = try CalibrationSession(graph: data.graph, inputs: session.batches[0], batchSize: 16)
    var search = StepSearch(options: options, loss: loss(data.labels))
    search.probeLoss = loss(Array(data.labels.prefix(16)))
    let found = try search.run(targets, session: &session, probe: &probe)
    // The whole sweep on all data gives each p's full loss: the finalists' rescored losses are those.
    var allData = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 16)
    var allProbe = try CalibrationSession(graph: data.graph, inputs: allData.batches[0], batchSize: 16)
    let full = try StepSearch(options: options, loss: loss(data.labels)).run(targets, session: &allData, probe: &allProbe)
    let fullLoss = Dictionary(uniqueKeysWithValues: full.report.sweep.map { ($0[0], $0[1]) })
    let ranked = found.report.sweep.sorted { $0[1] < $1[1] }.prefix(3).map { $0[0] }
    #expect(found.report.rescored?.map { $0[0] } == Array(ranked))
    for finalist in found.report.rescored ?? [] { #expect(finalist[1] == fullLoss[finalist[0]]) }
    let best = found.report.rescored!.min { $0[1] < $1[1] }!
    #expect(found.report.pStar == best[0] && found.loss == best[1])
}

/// The probe is the first samples whatever the batch size: small batches do not shrink it.
@Test func probeTakesTheFirstSamplesAcrossBatches() throws {
    let data = try ExampleData("mobilenet-digits", samples: 48)
    let name = data.graph.inputs[0].name
    for batch in [8, 16, 48] {
        let session = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: batch)
        for count in [5, 40, 64] {
            let probe = CalibrationSession.probeInputs(session, count: count)
            #expect(probe[name] == data.inputs[name]!.slice(axis0: 0..<min(count, 48)), "batch \(batch), count \(count)")
        }
    }
}

import MPQExecutor
import MPQGraph
@testable import MPQLAPQ
import MPQQuantization
import Testing

/// 48 mobilenet-digits samples in batches of 16, W4A8 targets, cross-entropy on all samples and on the probe (the
/// first batch), and options without a joint search.
private struct ProbeFixture {
    let data: ExampleData
    let targets: [QuantizerTarget]
    let output: String
    var options = StepSearch.Options()

    init(_ initialization: StepSearch.Initialization) throws {
        data = try ExampleData("mobilenet-digits", samples: 48)
        targets = try QuantizationRecipe(bits: BitWidths(weight: 4, activation: 8)).targets(in: data.graph)
        output = data.graph.outputs[0].name
        options.initialization = initialization
        options.joint = nil
    }

    func loss(samples: Int = 48) -> @Sendable ([String: Tensor]) -> Double {
        let (output, labels) = (output, Array(data.labels.prefix(samples)))
        return { outputs in (try? CalibrationLoss.crossEntropy(logits: outputs[output]!, labels: labels)) ?? .infinity }
    }

    /// Sessions on all 48 samples and on the probe.
    func sessions() throws -> (CalibrationSession, CalibrationSession) {
        let session = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 16)
        return (session, try CalibrationSession(graph: data.graph, inputs: session.batches[0], batchSize: 16))
    }

    /// A search on all samples that ranks p on the probe.
    func probeRanked() -> StepSearch {
        var search = StepSearch(options: options, loss: loss())
        search.probeLoss = loss(samples: 16)
        return search
    }
}

/// LAPQ's p sweep ranked on the probe: the same sweep as a search over the probe's samples alone, and the chosen
/// p's quantizers then scored on all calibration data.
@Test(arguments: [StepSearch.Initialization.bestP, .quadratic])
func probeRankedSweepScoresTheChosenPOnAllData(initialization: StepSearch.Initialization) throws {
    var fixture = try ProbeFixture(initialization)
    let (data, targets, output) = (fixture.data, fixture.targets, fixture.output)
    var (session, probe) = try fixture.sessions()

    // The reference: an ordinary search whose calibration data is the probe's 16 samples.
    var probeAsData = probe
    var probeForStatistics = probe
    let onProbe = try StepSearch(options: fixture.options, loss: fixture.loss(samples: 16))
        .run(targets, session: &probeAsData, probe: &probeForStatistics)

    fixture.options.probeFinalists = 1
    let search = fixture.probeRanked()
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

/// With three finalists, the probe's best three p values are scored on all data and the lowest full loss wins.
@Test func probeFinalistsAreDecidedOnAllData() throws {
    var fixture = try ProbeFixture(.bestP)
    fixture.options.probeFinalists = 3
    let targets = fixture.targets
    var (session, probe) = try fixture.sessions()
    let search = fixture.probeRanked()
    let found = try search.run(targets, session: &session, probe: &probe)
    // The whole sweep on all data gives each p's full loss: the finalists' rescored losses are those.
    var (allData, allProbe) = try fixture.sessions()
    let full = try StepSearch(options: fixture.options, loss: fixture.loss()).run(targets, session: &allData, probe: &allProbe)
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

/// 48 mobilenet-digits samples in batches of 16, the first batch as the probe, and LAPQ layer-wise searches on them
/// scored by cross-entropy (the probe's on its 16 samples).
private struct ProbeSweepFixture {
    let data: ExampleData
    var session: CalibrationSession
    var probe: CalibrationSession
    var options = StepSearch.Options()

    init() throws {
        data = try ExampleData("mobilenet-digits", samples: 48)
        session = try CalibrationSession(graph: data.graph, inputs: data.inputs, batchSize: 16)
        probe = try CalibrationSession(graph: data.graph, inputs: session.batches[0], batchSize: 16)
        options.initialization = .bestP
        options.joint = nil
    }

    func targets(_ weight: Int, _ activation: Int) throws -> [QuantizerTarget] {
        try QuantizationRecipe(bits: BitWidths(weight: weight, activation: activation)).targets(in: data.graph)
    }

    /// A search with `options` changed by `change`, ranking p on the probe (`onProbe`) or on all samples.
    func search(onProbe: Bool = true, _ change: (inout StepSearch.Options) -> Void = { _ in }) -> StepSearch {
        var options = self.options
        change(&options)
        var search = StepSearch(options: options, loss: loss(48))
        if onProbe { search.probeLoss = loss(16) }
        return search
    }

    private func loss(_ samples: Int) -> @Sendable ([String: Tensor]) -> Double {
        let (output, labels) = (data.graph.outputs[0].name, Array(data.labels.prefix(samples)))
        return { outputs in (try? CalibrationLoss.crossEntropy(logits: outputs[output]!, labels: labels)) ?? .infinity }
    }

    mutating func run(_ search: StepSearch, _ targets: [QuantizerTarget]) throws -> StepSearchResult {
        try search.run(targets, session: &session, probe: &probe)
    }
}

/// At 16 bits there is no p sweep: Lp clipping at the largest p, scored once on all data, the same as a sweep of that
/// p alone; the p values' losses differ by a sliver of the 8-bit loss change (rounding noise, so a sweep buys
/// nothing). Below 16 bits the probe ranks every p and its best is scored on all data.
@Test func sixteenBitTargetsAreNotSwept() throws {
    var fixture = try ProbeSweepFixture()
    let (targets, eightBit) = (try fixture.targets(16, 16), try fixture.targets(8, 8))
    let largest = fixture.options.pValues.max()!
    let found = try fixture.run(fixture.search(), targets)
    #expect(found.report.sweep.isEmpty && found.report.rescored == nil)
    #expect(found.report.pStar == largest)

    let reference = try fixture.run(fixture.search(onProbe: false) { $0.unsweptFromBits = nil; $0.pValues = [largest] }, targets)
    #expect(found.loss == reference.loss && found.quantizers.map(\.base) == reference.quantizers.map(\.base))

    let w8 = try fixture.run(fixture.search(), eightBit)
    #expect(w8.report.sweep.count == fixture.options.pValues.count && w8.report.rescored?.count == 1)
    let swept = try fixture.run(fixture.search(onProbe: false) { $0.unsweptFromBits = nil }, targets).report.sweep.map { $0[1] }
    #expect(swept.count == fixture.options.pValues.count)
    let fp32 = try fixture.run(fixture.search(onProbe: false), []).loss
    let spread = swept.max()! - swept.min()!
    #expect(spread < 0.02 * abs(w8.loss - fp32), "16-bit spread \(spread), 8-bit change \(w8.loss - fp32)")
}

/// With `unsweptFromBits` at 8 (the planner's setting above 10 GMAC a pass) W8A8 is not swept either: its steps and
/// loss are those of a search of the largest p alone, while W4A8 (a 4-bit weight grid) still gets the probe sweep.
@Test func eightBitTargetsAreNotSweptFromEightBits() throws {
    var fixture = try ProbeSweepFixture()
    let (eightBit, fourBit) = (try fixture.targets(8, 8), try fixture.targets(4, 8))
    let largest = fixture.options.pValues.max()!
    let fromEight = fixture.search { $0.unsweptFromBits = 8 }
    let found = try fixture.run(fromEight, eightBit)
    #expect(found.report.sweep.isEmpty && found.report.pStar == largest)

    let reference = try fixture.run(fixture.search { $0.unsweptFromBits = nil; $0.pValues = [largest] }, eightBit)
    #expect(found.loss == reference.loss && found.quantizers.map(\.base) == reference.quantizers.map(\.base))

    let w4 = try fixture.run(fromEight, fourBit)
    #expect(w4.report.sweep.count == fixture.options.pValues.count && w4.report.rescored?.count == 1)
}

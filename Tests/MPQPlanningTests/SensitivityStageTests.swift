import Foundation
import MPQLAPQ
@testable import MPQPlanning
import MPQSensitivity
import Testing

/// The sensitivity stage measures every group once, reporting progress in order, stores the table, and a second
/// pipeline on the same inputs reuses it without measuring.
@Test func sensitivitiesAreMeasuredOnceAndReused() throws {
    var request = try digitsRequest("sensitivities")
    request.calibrationSamples = 32
    request.batchSize = 32
    let log = EventLog()
    let pipeline = try PlanPipeline(request: request, onEvent: log.handler)
    let table = try pipeline.sensitivities()
    #expect(table.isComplete)
    #expect(table.groups.count == 4)
    #expect(table.referenceLoss >= 0)
    guard case .sensitivitiesStarted(let missing, let groups, _, let cache)? = log.events.first else {
        Issue.record("first event: \(String(describing: log.events.first))")
        return
    }
    #expect(missing == 4 && groups == 4)
    #expect(FileManager.default.fileExists(atPath: cache.path))
    let progress = log.events.compactMap { event -> Int? in
        if case .progress(.sensitivities, let done, let total) = event, total == 4 { return done } else { return nil }
    }
    #expect(progress == [0, 1, 2, 3, 4])

    let again = EventLog()
    let second = try PlanPipeline(request: request, onEvent: again.handler)
    #expect(try second.sensitivities() == table)
    #expect(again.events == [.sensitivitiesReused(cache: cache)])
}

/// A sweep killed before it wrote its table leaves the groups it measured in the journal: the next pipeline takes
/// them and measures only the rest; when the journal holds every group, it writes the table without measuring.
@Test func sensitivitiesResumeFromTheJournal() throws {
    var request = try digitsRequest("sensitivity-journal")
    request.calibrationSamples = 32
    request.batchSize = 32
    let table = try PlanPipeline(request: request).sensitivities()
    let store = try PlanPipeline(request: request).sensitivityStore().url
    let journal = SensitivityJournal(besides: store)
    #expect(!FileManager.default.fileExists(atPath: journal.url.path))

    // Killed after three groups: no table, three journal lines.
    try FileManager.default.removeItem(at: store)
    for group in table.groups.prefix(3) { try journal.append(table.journalEntry(group)) }
    let log = EventLog()
    let resumed = try PlanPipeline(request: request, onEvent: log.handler).sensitivities()
    guard case .sensitivitiesStarted(let missing, _, _, _)? = log.events.first else {
        Issue.record("first event: \(String(describing: log.events.first))")
        return
    }
    #expect(missing == 1)
    #expect(resumed.increases == table.increases && resumed.quantizers == table.quantizers)
    #expect(try SensitivityTable.load(from: store)?.increases == table.increases)
    #expect(!FileManager.default.fileExists(atPath: journal.url.path))

    // Killed after the last group but before the table was written: nothing is measured again.
    try FileManager.default.removeItem(at: store)
    for group in table.groups { try journal.append(table.journalEntry(group)) }
    let again = EventLog()
    #expect(try PlanPipeline(request: request, onEvent: again.handler).sensitivities().increases == table.increases)
    #expect(again.events == [.sensitivitiesReused(cache: store)])
    #expect(try SensitivityTable.load(from: store)?.increases == table.increases)
    #expect(!FileManager.default.fileExists(atPath: journal.url.path))

    // Killed after the table was written but before the journal was removed: the stale journal goes.
    try journal.append(table.journalEntry(table.groups[0]))
    #expect(try PlanPipeline(request: request).sensitivities() == table)
    #expect(!FileManager.default.fileExists(atPath: journal.url.path))
}

/// The p sweep ranks p on the probe only when the probe is a proper subset of the calibration data, and the
/// choice is part of the sensitivity table's key.
@Test func pSweepUsesTheProbeOnlyWhenItIsSmaller() throws {
    var request = try probeSizedRequest("p-sweep-samples", stepSearch: .bestP)
    let onProbe = try PlanPipeline(request: request)
    #expect(onProbe.effectivePSweepSamples == .probe)
    #expect(onProbe.search.probeLoss != nil)
    request.pSweepSamples = .all
    let onAll = try PlanPipeline(request: request)
    #expect(onAll.effectivePSweepSamples == .all && onAll.search.probeLoss == nil)
    try expectKeyed(onProbe, apartFrom: onAll, by: "pSweep=probe")

    // 48 samples: the probe (the first 64) is all of them, so asking for it changes nothing, key included.
    request.calibrationSamples = 48
    let small = try PlanPipeline(request: request)
    request.pSweepSamples = .probe
    let smallProbe = try PlanPipeline(request: request)
    #expect(smallProbe.effectivePSweepSamples == .all)
    #expect(try smallProbe.sensitivityStore().key == small.sensitivityStore().key)
}

/// The probe's finalists: three on a model whose calibration pass is cheap, one above 10 GMAC a pass (closed
/// form), the request's number when it sets one; the number is part of the sensitivity table's key.
@Test func pSweepFinalistsFollowTheCalibrationCost() throws {
    #expect(PlanRequest.defaultPSweepFinalists(macsPerSample: 1e6, samples: 256) == 3)
    #expect(PlanRequest.defaultPSweepFinalists(macsPerSample: 5.5e8, samples: 256) == 1)
    #expect(PlanRequest.defaultPSweepFinalists(macsPerSample: 1e8, samples: 100) == 3)
    #expect(PlanRequest.defaultPSweepFinalists(macsPerSample: 1e8, samples: 101) == 1)

    var request = try probeSizedRequest("p-sweep-finalists")
    let automatic = try PlanPipeline(request: request)
    let macs = Double(automatic.prepared.problem.groups.reduce(0) { $0 + $1.macs })
    #expect(macs * 96 < PlanRequest.expensivePassMACs)
    #expect(automatic.search.options.probeFinalists == 3)
    request.pSweepFinalists = 1
    let one = try PlanPipeline(request: request)
    #expect(one.search.options.probeFinalists == 1)
    try expectKeyed(one, apartFrom: automatic, by: "finalists=1")
}

/// The p sweep skips 16-bit grids, and from 8 bits on above 10 GMAC a pass (closed form) or when the request says
/// so: W4A8 sensitivities are then those of a sweep over every grid, W8A8 ones come from one clipping rule; the
/// setting is part of the table's key.
@Test func pSweepSkipsEightBitGridsOnExpensiveModels() throws {
    #expect(PlanRequest.defaultPSweepBelowBits(macsPerSample: 1e6, samples: 256) == 16)
    #expect(PlanRequest.defaultPSweepBelowBits(macsPerSample: 5.5e8, samples: 256) == 8)
    var request = try probeSizedRequest("p-sweep-below-bits", stepSearch: .bestP)
    #expect(try PlanPipeline(request: request).search.options.unsweptFromBits == 16)
    request.pSweepBelowBits = 8
    let below8 = try PlanPipeline(request: request)
    #expect(below8.search.options.unsweptFromBits == 8)
    request.pSweepBelowBits = 17
    let every = try PlanPipeline(request: request)
    #expect(every.search.options.unsweptFromBits == 17)
    try expectKeyed(below8, apartFrom: every, by: "unsweptFrom=8")

    let (skipped, swept) = (try below8.sensitivities(), try every.sensitivities())
    for group in skipped.groups {
        #expect(skipped.increases[group]?["W4A8"] == swept.increases[group]?["W4A8"], "\(group)")
    }
    let w8 = skipped.groups.filter { skipped.increases[$0]?["W8A8"] != swept.increases[$0]?["W8A8"] }
    #expect(!w8.isEmpty, "the 8-bit sweep chose p = 4 in every group")
}

/// Sensitivities on the probe (the default above 10 GMAC a pass, closed form): each loss increase is the probe's loss
/// of the group's chosen quantizers minus the probe's FP32 loss, recomputed here from the table's quantizers; the
/// choice is part of the table's key, and without a proper probe (or with the p sweep on all data) all samples are used.
@Test func sensitivitiesOnTheProbeAreProbeLossIncreases() throws {
    #expect(PlanRequest.defaultSensitivitySamples(macsPerSample: 1e6, samples: 256) == .all)
    #expect(PlanRequest.defaultSensitivitySamples(macsPerSample: 5.5e8, samples: 256) == .probe)
    var request = try probeSizedRequest("sensitivity-samples")
    let onAll = try PlanPipeline(request: request)
    #expect(onAll.sensitivitySamples == .all)
    request.sensitivitySamples = .probe
    let onProbe = try PlanPipeline(request: request)
    #expect(onProbe.sensitivitySamples == .probe)
    try expectKeyed(onProbe, apartFrom: onAll, by: "sensitivitySamples=probe")
    #expect(try onAll.sensitivityStore().description["settings"]?.contains("sensitivitySamples") == false)

    let table = try onProbe.sensitivities()
    var probe = onProbe.workspace.probe
    let search = onProbe.search
    func probeLoss(_ quantizers: [TensorQuantizer]) throws -> Double {
        try search.probeLoss(of: StepSearch.settings(quantizers, biases: search.biases(in: probe.graph)), probe: &probe)
    }
    let reference = try probeLoss([])
    var compared = 0
    for group in table.groups {
        for candidate in table.candidates {
            guard let chosen = table.quantizers[group]?[candidate], !chosen.isEmpty,
                  let increase = table.increases[group]?[candidate] ?? nil else { continue }
            let expected = try probeLoss(chosen) - reference
            #expect(abs(increase - expected) <= 1e-9 * max(abs(expected), 1e-6), "\(group) \(candidate): \(increase) vs \(expected)")
            compared += 1
        }
    }
    #expect(compared >= 12)
    let allTable = try onAll.sensitivities()
    #expect(table.groups.contains { table.increases[$0] != allTable.increases[$0] })

    request.pSweepSamples = .all
    #expect(try PlanPipeline(request: request).sensitivitySamples == .all)
    request.pSweepSamples = .probe
    request.calibrationSamples = 48
    #expect(try PlanPipeline(request: request).sensitivitySamples == .all)
}

/// The digits request with 96 calibration samples in batches of 32: the probe (the first 64) is a proper subset.
private func probeSizedRequest(_ name: String, stepSearch: StepSearch.Initialization? = nil) throws -> PlanRequest {
    var request = try digitsRequest(name)
    if let stepSearch { request.stepSearch = stepSearch }
    request.calibrationSamples = 96
    request.batchSize = 32
    return request
}

/// `pipeline`'s sensitivity table has another key than `other`'s, and its settings name `setting`.
private func expectKeyed(_ pipeline: PlanPipeline, apartFrom other: PlanPipeline, by setting: String,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(try pipeline.sensitivityStore().key != other.sensitivityStore().key, sourceLocation: sourceLocation)
    #expect(try pipeline.sensitivityStore().description["settings"]?.contains(setting) == true, sourceLocation: sourceLocation)
}

import Foundation
import MPQKernels
import MPQLAPQ
@testable import MPQPlanning
import Testing

/// A measurer that fails on one plan and, before each measurement, reads how many plans the store on disk holds
/// (what a run killed at that moment would keep).
private struct FailingMeasurer: PlanMeasurer {
    let failing: [Int]
    let storeURL: URL
    var measuresConcurrently: Bool
    /// (plan, plans stored on disk when its measurement began), in the order measured.
    let log = Locked([(plan: [Int], stored: Int)]())
    var storeTag: String { "failing" }

    struct Failure: Error {}

    mutating func measure(_ assignment: [Int]) throws -> MeasuredPlan {
        let stored = MeasuredPlanStore.load(from: storeURL, key: "k").entries.count
        log.withValue { $0.append((assignment, stored)) }
        if assignment == failing { throw Failure() }
        return MeasuredPlan(loss: FakeMeasurer.loss(assignment))
    }

    mutating func steps(for assignment: [Int]) throws -> StepSearchResult { throw Failure() }
}

private let plans = (0..<12).map { [$0 / 4, $0 % 4] }

/// Measures `plans` on `threads` workers into a fresh store, checkpointing after every plan, until `failing` fails.
private func failedBatch(_ name: String, failing: [Int], threads: Int) -> (FailingMeasurer, URL) {
    let url = Paths.temporary(name).appendingPathComponent("measured.json")
    let measurer = FailingMeasurer(failing: failing, storeURL: url, measuresConcurrently: threads > 1)
    var measurements = PlanMeasurements(measurer: measurer, storeURL: url, key: "k")
    measurements.checkpointInterval = 0
    #expect(throws: FailingMeasurer.Failure.self) { try measurements.measureAll(plans, threads: threads) }
    return (measurer, url)
}

/// A batch of measurements writes its plans to the store as it goes (here after every plan), so a run killed in the
/// middle keeps them; the plans measured before a failure are stored, and a new run measures only the rest.
@Test func measuredPlansReachTheStoreWhileTheBatchRuns() throws {
    let failing = plans[7]
    let (measurer, url) = failedBatch("measurement-checkpoints", failing: failing, threads: 1)
    // One worker, lexicographic order: plan k began with the k plans before it already on disk.
    #expect(measurer.log.withValue { $0.map(\.plan) } == Array(plans[0...7]))
    #expect(measurer.log.withValue { $0.map(\.stored) } == Array(0...7))

    let fresh = FakeMeasurer()
    var resumed = PlanMeasurements(measurer: fresh, storeURL: url, key: "k")
    #expect(plans[..<7].allSatisfy { resumed.contains($0) && resumed[$0]?.loss == FakeMeasurer.loss($0) })
    #expect(!resumed.contains(failing))
    try resumed.measureAll(plans)
    #expect(fresh.counter.count == 5)
}

/// With several workers every plan finished before a failure is stored too, whichever worker measured it, and the
/// checkpoints written meanwhile hold only finished plans.
@Test func plansMeasuredSideBySideAreKeptWhenOneFails() throws {
    let failing = plans[5]
    let (measurer, url) = failedBatch("measurement-checkpoints-workers", failing: failing, threads: 2)
    let begun = measurer.log.withValue { $0 }
    let finished = begun.map(\.plan).filter { $0 != failing }
    let stored = MeasuredPlanStore.load(from: url, key: "k")
    #expect(Set(stored.entries.keys) == Set(finished.map { $0.map(String.init).joined(separator: ",") }))
    #expect(begun.allSatisfy { $0.stored <= finished.count })
    #expect(finished.allSatisfy { PlanMeasurements(measurer: FakeMeasurer(), storeURL: url, key: "k")[$0]?.loss == FakeMeasurer.loss($0) })
}

/// Checkpoints are written at most every `checkpointInterval` seconds: with a long interval nothing reaches the
/// disk before the batch ends, and everything does when it ends.
@Test func checkpointsWaitForTheirInterval() throws {
    let url = Paths.temporary("measurement-checkpoints-interval").appendingPathComponent("measured.json")
    let measurer = FailingMeasurer(failing: [], storeURL: url, measuresConcurrently: false)
    var measurements = PlanMeasurements(measurer: measurer, storeURL: url, key: "k")
    measurements.checkpointInterval = 3600
    try measurements.measureAll(plans)
    #expect(measurer.log.withValue { $0.map(\.stored) } == Array(repeating: 0, count: plans.count))
    #expect(MeasuredPlanStore.load(from: url, key: "k").entries.count == plans.count)
}

import Foundation
import MPQLAPQ
import MPQPlanner
@testable import MPQPlanning
import MPQSensitivity

enum Paths {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func example(_ path: String) -> String { repository.appendingPathComponent("examples/" + path).path }
    /// A fresh, empty directory for one test.
    static func temporary(_ name: String) -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("mpq-planning-tests-\(ProcessInfo.processInfo.processIdentifier)/\(name)")
        try? FileManager.default.removeItem(at: dir)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// A request for the digits CNN on the generic NPU at `budget`, with a small, cheap setting: 64 calibration
/// samples, the MMSE step search, no refinement.
func digitsRequest(_ name: String, budget: String = "6bits", validation: Bool = false) throws -> PlanRequest {
    let profile = try HardwareProfile.load(nameOrPath: "generic-npu",
                                           searchDirectories: [Paths.repository.appendingPathComponent("hardware-profiles")])
    let dir = Paths.temporary(name)
    var request = PlanRequest(model: Paths.example("digits/model.onnx"), calibration: [Paths.example("digits/calib.npy")],
                              labels: Paths.example("digits/calib_labels.npy"), budgets: try BudgetConstraint.parseList([budget]),
                              profile: profile, profileText: "generic-npu", cacheDirectory: dir.appendingPathComponent("cache"),
                              outputDirectory: dir)
    if validation {
        request.validation = [Paths.example("digits/val.npy")]
        request.validationLabels = Paths.example("digits/val_labels.npy")
    }
    request.calibrationSamples = 64
    request.batchSize = 64
    request.stepSearch = .mmse
    request.paretoPoints = 3
    request.refinement = nil
    return request
}

/// A sensitivity table without a sweep: every group's increase falls with the candidate's bits.
func syntheticTable(for pipeline: PlanPipeline) throws -> SensitivityTable {
    let store = try pipeline.sensitivityStore()
    let problem = pipeline.prepared.problem
    var table = SensitivityTable(key: store.key, description: store.description, groups: problem.groups.map(\.name),
                                 candidates: problem.candidates.map(\.name), referenceLoss: 0.1)
    for (g, group) in problem.groups.enumerated() {
        var row: [String: Double?] = [:]
        for (c, candidate) in problem.candidates.enumerated() {
            let allowed = problem.effectiveAllowed(g).contains(c)
            row[candidate.name] = allowed ? Double(g + 1) * pow(2, -Double(candidate.weightBits + candidate.activationBits) / 4) : nil
        }
        table.increases[group.name] = row
        table.seconds[group.name] = 0
    }
    return table
}

/// Counts how often the fake measurer really measured (shared by the copies a measurement store keeps).
final class Counter: @unchecked Sendable {
    var count = 0
    /// Plans measured with their validation run.
    var validated: [[Int]] = []
    /// Validation runs of plans whose loss was measured before (no second loss measurement).
    var validationOnly = 0
}

/// A measurer whose losses are a fixed function of the assignment (not of the predicted loss), so measurement
/// can disagree with the ILP; steps come from a real measurer when asked for.
struct FakeMeasurer: PlanMeasurer {
    var counter = Counter()
    var real: (any PlanMeasurer)?
    var storeTag: String { "fake" }
    /// Measure losses without validation when asked (as the composed measurer does with validation data).
    var validatesSeparately = false

    static func loss(_ assignment: [Int]) -> Double {
        0.1 + Double(assignment.enumerated().map { ($0 + 2) * ($1 + 3) }.reduce(0, +) % 11) / 100
    }

    mutating func measure(_ assignment: [Int]) throws -> MeasuredPlan {
        counter.count += 1
        counter.validated.append(assignment)
        return MeasuredPlan(loss: Self.loss(assignment), validation: ValidationMetrics(loss: Self.loss(assignment), accuracy: 0.9))
    }

    mutating func loss(_ assignment: [Int]) throws -> MeasuredPlan {
        guard validatesSeparately else { return try measure(assignment) }
        counter.count += 1
        return MeasuredPlan(loss: Self.loss(assignment))
    }

    mutating func validation(_ assignment: [Int]) throws -> ValidationMetrics? {
        counter.validated.append(assignment)
        counter.validationOnly += 1
        return ValidationMetrics(loss: Self.loss(assignment), accuracy: 0.9)
    }

    mutating func steps(for assignment: [Int]) throws -> StepSearchResult {
        guard var real else { throw InputProblem("no real measurer") }
        defer { self.real = real }
        return try real.steps(for: assignment)
    }
}

/// Records a pipeline's events.
final class EventLog: @unchecked Sendable {
    var events: [PlanEvent] = []
    var handler: PlanEventHandler { { self.events.append($0) } }
    var phases: [PlanPhase] {
        events.compactMap { if case .phaseFinished(let phase, _) = $0 { return phase } else { return nil } }
    }
}

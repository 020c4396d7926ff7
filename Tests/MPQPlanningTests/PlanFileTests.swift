import Foundation
@testable import MPQPlanning
import Testing

private func writePlan(_ object: [String: Any], _ name: String) throws -> URL {
    let url = Paths.temporary("plan-file-\(name)").appendingPathComponent("plan.json")
    try JSONSerialization.data(withJSONObject: object).write(to: url)
    return url
}

/// A plan.json as written before the format was versioned, without measured steps.
private let unversionedPlan: [String: Any] = [
    "model": "/m.onnx", "profile": "generic-npu", "loss": "kl", "budgets": ["6bits"], "calib": ["/c.npy"], "batchSize": 64,
    "candidates": ["W8A8"], "sensitivities": [String: Any](), "fp32Loss": 0.1, "bopsReference": "W8A8",
    "floatOnlyGroups": [String](), "floatTensors": [Any](), "ties": [Any](), "costs": ["bits": 8.0], "uniform": [Any](),
    "pareto": [Any](), "greedy": [Any](), "tensors": [Any](), "correctedBiases": [String: Any](),
]

/// Files written before the format was versioned read as version 1; newer versions and plans without steps are
/// refused with a message saying why.
@Test func planFileVersions() throws {
    let old = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: try writePlan(unversionedPlan, "v1")))
    #expect(old.formatVersion == nil && old.costs["bits"] == 8)
    #expect(throws: InputProblem.self) { try PlanFile.load(try writePlan(unversionedPlan, "v1").path) }
    var future = unversionedPlan
    future["formatVersion"] = PlanFile.currentFormatVersion + 1
    let path = try writePlan(future, "future").path
    do {
        _ = try PlanFile.load(path)
        Issue.record("a newer plan format was read")
    } catch {
        #expect("\(error)".contains("newer"))
    }
    #expect(throws: InputProblem.self) { try PlanFile.load("/no/such/plan.json") }
}

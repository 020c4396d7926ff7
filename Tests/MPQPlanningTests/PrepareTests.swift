import Foundation
import MPQPlanner
@testable import MPQPlanning
import Testing

/// Prepare on the digits CNN: four groups with their layer costs, the profile's candidates, the first N samples.
@Test func prepareGroupsAndCostsTheDigitsModel() throws {
    var request = try digitsRequest("prepare", validation: true)
    request.calibrationSamples = 40
    let prepared = try PreparedModel.prepare(request)
    #expect(prepared.calibration.sampleCount == 40)
    #expect(prepared.calibration.labels?.count == 40)
    #expect(prepared.problem.groups.count == 4)
    #expect(prepared.problem.candidates.map(\.name) == request.profile.candidates.map(\.name))
    #expect(prepared.problem.groups.allSatisfy { group in group.layers.allSatisfy { $0.parameters > 0 && $0.macs > 0 } })
    #expect(prepared.floatOnlyGroups.isEmpty)
    #expect(prepared.grouping.groups.map(\.name) == prepared.problem.groups.map(\.name))
    let validation = try #require(prepared.validation)
    #expect(validation.data.sampleCount > 0)
    // The FP32 model is accurate on its validation digits, and its reference outputs score a zero KL loss.
    #expect(try #require(validation.referenceAccuracy) > 0.9)
    #expect(try validation.objective.evaluate(validation.objective.reference) == 0)
}

@Test func crossEntropyWithoutLabelsIsAnInputProblem() throws {
    var request = try digitsRequest("prepare-no-labels")
    request.labels = nil
    request.loss = .crossEntropy
    #expect(throws: InputProblem.self) { try PreparedModel.prepare(request) }
}

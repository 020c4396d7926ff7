import MPQGraph
@testable import MPQPlanning
import MPQQuantization
import Testing

@Test func objectiveMatchesTheLossAndIsInfiniteWithoutItsOutput() throws {
    let reference = Tensor(shape: [2, 3], floats: [1, 2, 3, 3, 2, 1])
    let quantized = Tensor(shape: [2, 3], floats: [1.1, 2, 2.9, 3, 2.2, 1])
    let objective = CalibrationObjective(kind: .klDivergence, outputName: "y", reference: reference, labels: nil)
    let expected = try CalibrationLoss.klDivergence.evaluate(quantized, reference: reference)
    #expect(try objective.evaluate(quantized) == expected)
    #expect(objective.loss(of: ["y": quantized]) == expected)
    #expect(objective.function(["y": quantized]) == expected)
    #expect(objective.loss(of: ["z": quantized]) == .infinity)
    // A loss that cannot be evaluated (cross-entropy without labels) is never preferred.
    let unlabelled = CalibrationObjective(kind: .crossEntropy, outputName: "y", reference: reference, labels: nil)
    #expect(unlabelled.loss(of: ["y": quantized]) == .infinity)
}

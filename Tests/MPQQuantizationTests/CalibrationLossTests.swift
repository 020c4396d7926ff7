import Foundation
import Testing
import MPQGraph
@testable import MPQQuantization

@Suite struct CalibrationLossTests {
    @Test func crossEntropyClosedForm() throws {
        #expect(close(try CalibrationLoss.crossEntropy(logits: Tensor(shape: [1, 2], floats: [0, 0]), labels: [0]), log(2)))
        let z = Tensor(shape: [2, 3], floats: [1, 2, 3, 0, 0, 0])
        let expected = ((log(exp(1.0) + exp(2) + exp(3)) - 3) + log(3.0)) / 2
        #expect(close(try CalibrationLoss.crossEntropy(logits: z, labels: [2, 1]), expected, 1e-12))
        // Stable for huge logits.
        #expect(close(try CalibrationLoss.crossEntropy(logits: Tensor(shape: [1, 2], floats: [1000, 0]), labels: [1]), 1000))
        #expect(throws: QuantizationError.self) { try CalibrationLoss.crossEntropy(logits: z, labels: [3, 0]) }
    }

    @Test func klDivergenceClosedForm() throws {
        let ref = Tensor(shape: [1, 2], floats: [0, 0])
        let q = Tensor(shape: [1, 2], floats: [Float(log(3.0)), 0]) // softmax (0.75, 0.25)
        let expected = 0.5 * log(0.5 / 0.75) + 0.5 * log(0.5 / 0.25)
        #expect(close(try CalibrationLoss.klDivergence(reference: ref, quantized: q), expected, 1e-7))
        #expect(try CalibrationLoss.klDivergence(reference: q, quantized: q) == 0)
        // Shift invariance and stability.
        let big = Tensor(shape: [1, 2], floats: [1000 + Float(log(3.0)), 1000])
        #expect(close(try CalibrationLoss.klDivergence(reference: ref, quantized: big), expected, 1e-4))
    }

    @Test func mseCosineAndSQNR() throws {
        #expect(try CalibrationLoss.meanSquaredError(reference: Tensor(shape: [1, 2], floats: [1, 2]),
                                                     quantized: Tensor(shape: [1, 2], floats: [1, 4])) == 2)
        let s = Tensor(shape: [2, 2], floats: [1, 0, 1, 1]), q = Tensor(shape: [2, 2], floats: [0, 1, 2, 2])
        #expect(close(try CalibrationLoss.cosineDistance(reference: s, quantized: q), 0.5, 1e-12))
        let a = Tensor(shape: [1, 2], floats: [3, 4]), b = Tensor(shape: [1, 2], floats: [3, 3])
        #expect(close(try CalibrationLoss.sqnr(reference: a, quantized: b), 10 * log10(25.0), 1e-12))
        #expect(close(try CalibrationLoss.negativeSQNR.evaluate(b, reference: a), -10 * log10(25.0), 1e-12))
        #expect(try CalibrationLoss.sqnr(reference: a, quantized: a) == .infinity)
        #expect(try CalibrationLoss.negativeSQNR.evaluate(a, reference: a) == -CalibrationLoss.sqnrCap)
    }

    @Test func defaultsNamesAndDispatch() throws {
        #expect(CalibrationLoss.defaultLoss(labelsAvailable: true) == .crossEntropy)
        #expect(CalibrationLoss.defaultLoss(labelsAvailable: false) == .klDivergence)
        #expect(CalibrationLoss(name: "kl") == .klDivergence)
        #expect(Set(CalibrationLoss.allCases.map(\.name)).count == CalibrationLoss.allCases.count)
        let z = Tensor(shape: [1, 2], floats: [0, 0])
        #expect(close(try CalibrationLoss.crossEntropy.evaluate(z, labels: [1]), log(2)))
        #expect(throws: QuantizationError.self) { try CalibrationLoss.crossEntropy.evaluate(z) }
        #expect(throws: QuantizationError.self) { try CalibrationLoss.meanSquaredError.evaluate(z) }
    }

    @Test func rowCosineSimilaritiesByHand() throws {
        // Rows: identical (1), orthogonal (0), opposite (−1), 45° apart (√½), both zero (1), one zero (0).
        let s = Tensor(shape: [6, 2], floats: [1, 2, 1, 0, 3, 4, 1, 0, 0, 0, 0, 0])
        let q = Tensor(shape: [6, 2], floats: [2, 4, 0, 5, -3, -4, 1, 1, 0, 0, 1, 1])
        let c = try CalibrationLoss.rowCosineSimilarities(reference: s, quantized: q)
        let expected = [1, 0, -1, 0.5.squareRoot(), 1, 0]
        #expect(c.count == 6)
        for (a, b) in zip(c, expected) { #expect(abs(a - b) < 1e-12) }
        #expect(abs(try CalibrationLoss.cosineDistance(reference: s, quantized: q) - expected.map { 1 - $0 }.reduce(0, +) / 6) < 1e-12)
    }
}

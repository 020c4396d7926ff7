import MPQPlanning
import Testing

/// Agreement with FP32 classes, counted by hand on three samples of six classes.
@Test func classAgreementCountsTopOneAndTopFive() throws {
    let reference: [Float] = [9, 1, 2, 3, 4, 5,   // class 0
                              0, 8, 1, 1, 1, 1,   // class 1
                              1, 2, 3, 4, 5, 9]   // class 5
    let quantized: [Float] = [9, 1, 2, 3, 4, 5,   // class 0 first
                              9, 7, 1, 1, 1, 1,   // class 1 second
                              9, 8, 7, 6, 5, 4]   // class 5 last (6th)
    let agreement = try #require(ClassAgreement(reference: reference, quantized: quantized, classes: 6))
    #expect(agreement.top1 == 1.0 / 3)
    #expect(agreement.top5 == 2.0 / 3)
    #expect(ClassAgreement(reference: [1, 2], quantized: [2, 1], classes: 2)?.top5 == nil)
    #expect(ClassAgreement(reference: [1, 2, 3], quantized: [1, 2], classes: 2) == nil)
}

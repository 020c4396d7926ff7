import Foundation
import MPQGraph
import Testing
@testable import MPQData

@Suite struct InputValidationTests {
    let imageInput = ValueInfo(name: "input", elementType: .float32, declaredTypeName: "float32",
                               shape: [.symbolic("N"), .fixed(1), .fixed(8), .fixed(8)])
    let tokenInput = ValueInfo(name: "input_ids", elementType: .int64, declaredTypeName: "int64",
                               shape: [.symbolic("batch"), .unknown])

    @Test func acceptsFloat32AndConvertedFloat64() throws {
        let f4 = try Fixture.read("images_f4.npy").validated(against: imageInput)
        #expect(f4.shape == [5, 1, 8, 8])
        #expect(f4.floats == (0..<320).map { Float($0) / 64 })
        let f8 = try Fixture.read("images_f8.npy").validated(against: imageInput)
        #expect(f8 == f4)
    }

    @Test func rejectsIntegersForAFloatInput() throws {
        let array = try Fixture.read("images_u1.npy")
        let e = Fixture.dataError { _ = try array.validated(against: imageInput) }
        #expect(e == .inputTypeMismatch(path: Fixture.path("images_u1.npy"), input: "input", expectedType: "float32",
                                        expectedShape: "[N, 1, 8, 8]", foundDType: "|u1", foundShape: [5, 1, 8, 8]))
        #expect(e?.description == "\(Fixture.path("images_u1.npy")): model input 'input' expects float32 [N, 1, 8, 8], but the file holds |u1 [5, 1, 8, 8]. "
                + "Convert it, e.g. numpy.save(path, array.astype(numpy.float32)).")
    }

    @Test func rejectsWrongRankAndFixedDimension() throws {
        let rank = Fixture.dataError { _ = try Fixture.read("images_wrong_shape.npy").validated(against: imageInput) }
        #expect(rank == .inputShapeMismatch(path: Fixture.path("images_wrong_shape.npy"), input: "input", expectedType: "float32",
                                            expectedShape: "[N, 1, 8, 8]", foundDType: "<f4", foundShape: [5, 64]))
        let text = rank?.description ?? ""
        #expect(text.contains("images_wrong_shape.npy: model input 'input' expects float32 [N, 1, 8, 8], but the file holds <f4 [5, 64]."))
        #expect(text.contains("Reshape the array to [N, 1, 8, 8]"))

        let dims = Fixture.dataError { _ = try Fixture.read("images_wrong_dims.npy").validated(against: imageInput) }
        #expect(dims?.description.contains("but the file holds <f4 [5, 1, 8, 9]") == true)
    }

    @Test func integerInputsAcceptInt32AndSymbolicDims() throws {
        let t = try Fixture.read("tokens_i4.npy").validated(against: tokenInput)
        #expect(t.shape == [2, 3])
        #expect(t.int64s == [1, 2, 3, 4, 5, 6])
        let e = Fixture.dataError { _ = try Fixture.read("images_f4.npy").validated(against: tokenInput) }
        #expect(e?.description.contains("model input 'input_ids' expects int64 [batch, ?], but the file holds <f4 [5, 1, 8, 8]") == true)
        #expect(e?.description.contains("astype(numpy.int64)") == true)
    }

    @Test func convertedDeclaredTypesAndUnknownRank() throws {
        let half = ValueInfo(name: "x", elementType: nil, declaredTypeName: "float16", shape: nil)
        #expect(try Fixture.read("images_f4.npy").validated(against: half).shape == [5, 1, 8, 8])
        let e = Fixture.dataError { _ = try Fixture.read("tokens_i4.npy").validated(against: half) }
        #expect(e?.description.contains("model input 'x' expects float16 [?], but the file holds <i4 [2, 3]") == true)
        let flag = ValueInfo(name: "mask", elementType: .bool, declaredTypeName: "bool", shape: [.fixed(2), .fixed(2)])
        #expect(try Fixture.read("b1.npy").validated(against: flag).bools == [true, false, false, true])
    }

    @Test func labels() throws {
        #expect(try Fixture.read("labels_i8.npy").validatedLabels(sampleCount: 5, numClasses: 10) == [0, 1, 2, 3, 9])
        #expect(try Fixture.read("labels_i4.npy").validatedLabels(sampleCount: 5, numClasses: 10) == [0, 1, 2, 3, 9])

        let tooFewClasses = Fixture.dataError { _ = try Fixture.read("labels_i8.npy").validatedLabels(sampleCount: 5, numClasses: 9) }
        #expect(tooFewClasses == .labelOutOfRange(path: Fixture.path("labels_i8.npy"), index: 4, value: 9, numClasses: 9))
        #expect(tooFewClasses?.description == "\(Fixture.path("labels_i8.npy")): label 9 at index 4 is outside 0..<9 (the model has 9 classes). Labels must be class indices from 0 to 8.")

        let outOfRange = Fixture.dataError { _ = try Fixture.read("labels_out_of_range.npy").validatedLabels(sampleCount: 5, numClasses: 10) }
        #expect(outOfRange == .labelOutOfRange(path: Fixture.path("labels_out_of_range.npy"), index: 2, value: 10, numClasses: 10))

        let float = Fixture.dataError { _ = try Fixture.read("labels_f4.npy").validatedLabels(sampleCount: 5, numClasses: 10) }
        #expect(float == .labelsNotInteger(path: Fixture.path("labels_f4.npy"), dtype: "<f4"))
        #expect(float?.description.contains("labels must be integers, found dtype <f4. Convert them with labels.astype(numpy.int64).") == true)

        let twoD = Fixture.dataError { _ = try Fixture.read("labels_2d.npy").validatedLabels(sampleCount: 5, numClasses: 10) }
        #expect(twoD == .labelsShapeMismatch(path: Fixture.path("labels_2d.npy"), foundShape: [5, 1], expectedCount: 5))
        #expect(twoD?.description.contains("labels must be a 1-D array of 5 class indices (one per sample), found shape [5, 1]. Use labels.reshape(-1)") == true)

        let count = Fixture.dataError { _ = try Fixture.read("labels_i8.npy").validatedLabels(sampleCount: 4, numClasses: 10) }
        #expect(count == .labelsShapeMismatch(path: Fixture.path("labels_i8.npy"), foundShape: [5], expectedCount: 4))
        #expect(count?.description == "\(Fixture.path("labels_i8.npy")): holds 5 labels but the inputs have 4 samples; give one class "
            + "index per input sample, in the same order (are these the labels of other inputs?).")

        let bools = Fixture.dataError { _ = try Fixture.read("b1.npy").validatedLabels(sampleCount: 4, numClasses: 2) }
        #expect(bools == .labelsNotInteger(path: Fixture.path("b1.npy"), dtype: "|b1"))
    }
}

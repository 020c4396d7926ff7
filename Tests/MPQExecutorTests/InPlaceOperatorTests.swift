import Testing
@testable import MPQExecutor
import MPQGraph

/// `run(consuming:)`: operators that declare an `inPlaceInput` compute into that input's storage
/// when it is uniquely referenced, with results identical to `run`.
private func storageAddress(_ t: Tensor) -> UnsafeRawPointer? {
    t.floats?.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
}

@Test(arguments: ["Add", "Sub", "Mul", "Div"])
func binaryRunsInPlaceWithTheSameResult(_ opType: String) throws {
    // Same shapes, a broadcast bias on either side, a broadcast mask, a scalar.
    let cases: [([Int], [Int])] = [([3, 5, 7], [3, 5, 7]), ([3, 5, 7], [7]), ([7], [3, 5, 7]), ([2, 1, 1, 9], [2, 3, 4, 9]), ([4, 6], [])]
    for (aShape, bShape) in cases {
        let a = OpFixture.iota(aShape, start: 1), b = OpFixture.iota(bShape, start: 2)
        let op = try BinaryOperator(OpFixture.context(opType, [a, b]))
        let expected = try op.run([a, b])[0]
        let k = try #require(op.inPlaceInput)
        #expect([a, b][k].shape == op.outputTypes[0].shape)
        // Hand over fresh copies so nothing else references the in-place operand.
        let inputs: [Tensor?] = [Tensor(shape: aShape, floats: a.floats!.map { $0 }), Tensor(shape: bShape, floats: b.floats!.map { $0 })]
        let address = storageAddress(inputs[k]!)
        let result = try op.run(consuming: consume inputs)[0]
        #expect(result == expected, "\(opType) \(aShape) \(bShape)")
        #expect(storageAddress(result) == address, "\(opType) \(aShape) \(bShape): not computed in place")
    }
}

@Test func binaryWithSharedStorageIsStillCorrect() throws {
    // x + x: both operands are the same array, so the in-place write must not disturb the other.
    let x = OpFixture.iota([4, 5], start: -3)
    let op = try BinaryOperator(OpFixture.context("Add", [x, x]))
    #expect(try op.run(consuming: [x, x])[0] == (try op.run([x, x])[0]))
    #expect(x == OpFixture.iota([4, 5], start: -3))
}

@Test func integerAndBroadcastOnlyOperandsAreNotInPlace() throws {
    let i = Tensor(shape: [3], int64s: [1, 2, 3])
    #expect(try BinaryOperator(OpFixture.context("Add", [i, i])).inPlaceInput == nil)
    let a = OpFixture.iota([1, 4]), b = OpFixture.iota([3, 1])
    #expect(try BinaryOperator(OpFixture.context("Mul", [a, b])).inPlaceInput == nil)
}

@Test(arguments: ["Erf", "Exp"])
func elementwiseMathRunsInPlace(_ opType: String) throws {
    let x = Tensor(shape: [3, 37], floats: (0..<111).map { Float($0) / 20 - 2.5 })
    let op = try ElementwiseMathOperator(OpFixture.context(opType, [x]))
    let expected = try op.run([x])[0]
    let fresh: [Tensor?] = [Tensor(shape: x.shape, floats: x.floats!.map { $0 })]
    let address = storageAddress(fresh[0]!)
    let result = try op.run(consuming: consume fresh)[0]
    #expect(result == expected)
    #expect(storageAddress(result) == address)
    #expect(try ElementwiseMathOperator(OpFixture.context("Sqrt", [x])).inPlaceInput == nil)
}

@Test func largeBinaryOperandsSplitOverThreadsMatchScalarLoops() throws {
    // Above the parallel grain: one long run, many bias runs, a broadcast mask.
    let cases: [([Int], [Int])] = [([70_001], [70_001]), ([64, 33, 41], [41]), ([8, 1, 1, 128], [8, 12, 128, 128]), ([66_000], [])]
    for (aShape, bShape) in cases {
        let a = OpFixture.iota(aShape, start: -5), b = OpFixture.iota(bShape, start: 1)
        let op = try BinaryOperator(OpFixture.context("Sub", [a, b]))
        let out = try op.run([a, b])[0]
        let shape = op.outputTypes[0].shape
        // Reference by explicit broadcasting.
        let plan = Broadcasting.BinaryPlan(a: aShape, b: bShape, out: shape)
        var expected = [Float](repeating: 0, count: plan.count)
        let av = a.floats!, bv = b.floats!
        plan.forEachRun { ao, bo, oo, n, aStep, bStep in
            for i in 0..<n { expected[oo + i] = av[ao + i * aStep] - bv[bo + i * bStep] }
        }
        #expect(out.floats! == expected, "\(aShape) \(bShape)")
        #expect(try op.run(consuming: [a, b])[0] == out)
    }
}

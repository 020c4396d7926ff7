import Testing
@testable import MPQExecutor
import MPQGraph

/// Hand-computed checks of the operators transformer exports use, for the semantics that are easy
/// to get wrong: clamping, negative indices and steps, uneven splits, broadcasting.
@Suite struct TransformerOperatorTests {
    typealias F = OpFixture

    static func ints(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], int64s: v) }
    static func scalar(_ v: Int64) -> Tensor { Tensor(shape: [], int64s: [v]) }

    /// Slice of iota([4, 6]) with the given inputs, as floats.
    func slice(_ starts: [Int64], _ ends: [Int64], axes: [Int64]? = nil, steps: [Int64]? = nil,
               shape: [Int] = [4, 6]) throws -> Tensor {
        var inputs: [Tensor?] = [F.iota(shape), Self.ints(starts), Self.ints(ends)]
        if axes != nil || steps != nil { inputs.append(axes.map(Self.ints)) }
        if let steps { inputs.append(Self.ints(steps)) }
        return try F.run(SliceOperator.self, "Slice", opset: 13, inputs, constant: Set(1..<inputs.count))[0]
    }

    @Test func sliceClampsAndCountsFromTheEnd() throws {
        // Rows 1..<3, columns 2..<5 of [[0..5], [6..11], [12..17], [18..23]].
        let basic = try slice([1, 2], [3, 5])
        #expect(basic.shape == [2, 3])
        #expect(basic.floats == [8, 9, 10, 14, 15, 16])
        // Start -3 = row 1, end -1 = row 3; columns from -4 = 2 to 100 clamped to 6.
        let negative = try slice([-3, -4], [-1, 100], axes: [0, 1])
        #expect(negative.shape == [2, 4])
        #expect(negative.floats == [8, 9, 10, 11, 14, 15, 16, 17])
        // INT64_MAX end: to the end of the axis.
        let toEnd = try slice([4], [.max], axes: [1])
        #expect(toEnd.floats == [4, 5, 10, 11, 16, 17, 22, 23])
        // Start beyond end with step 1: empty.
        let empty = try slice([3], [1], axes: [1])
        #expect(empty.shape == [4, 0])
    }

    @Test func sliceWithNegativeSteps() throws {
        // Reverse a row: start INT64_MAX clamps to d−1, end INT64_MIN clamps to −1 (before index 0).
        let reversed = try slice([.max], [.min], axes: [-1], steps: [-1], shape: [1, 5])
        #expect(reversed.floats == [4, 3, 2, 1, 0])
        // Step −2 from 5 down to (excluding) 0: 5, 3, 1.
        let everyOther = try slice([5], [0], axes: [1], steps: [-2], shape: [1, 7])
        #expect(everyOther.floats == [5, 3, 1])
        // Step 3 over [0, 7): 0, 3, 6; step −3 from −1 (= 6) to −8 (clamped to −1): 6, 3, 0.
        #expect(try slice([0], [7], axes: [1], steps: [3], shape: [1, 7]).floats == [0, 3, 6])
        #expect(try slice([-1], [-8], axes: [1], steps: [-3], shape: [1, 7]).floats == [6, 3, 0])
        let zeroStep = F.initError(SliceOperator.self, F.context("Slice", opset: 13,
            [F.iota([3]), Self.ints([0]), Self.ints([3]), Self.ints([0]), Self.ints([0])], constant: [1, 2, 3, 4]))
        #expect(zeroStep?.contains("steps") == true)
    }

    @Test func gatherCountsNegativeIndicesFromTheEnd() throws {
        // Rows of iota([4, 2]): index −1 is row 3, −4 is row 0.
        let rows = try F.run(GatherOperator.self, "Gather", [F.iota([4, 2]), Tensor(shape: [2, 2], int64s: [-1, 0, 2, -4])])[0]
        #expect(rows.shape == [2, 2, 2])
        #expect(rows.floats == [6, 7, 0, 1, 4, 5, 0, 1])
        // Axis −1 with a scalar index drops the axis: column 1 of iota([2, 3]).
        let column = try F.run(GatherOperator.self, "Gather", [F.iota([2, 3]), Self.scalar(-2)],
                               attributes: ["axis": .int(-1)])[0]
        #expect(column.shape == [2])
        #expect(column.floats == [1, 4])
        // int64 data (a Shape result) stays int64.
        let dim = try F.run(GatherOperator.self, "Gather", [Self.ints([8, 128, 384]), Self.scalar(1)])[0]
        #expect(dim.int64s == [128])
        #expect(dim.shape == [])
        // Out of range: an error naming the index, not a crash.
        let op = try GatherOperator(F.context("Gather", [F.iota([4, 2]), Self.ints([4])]))
        #expect(throws: GraphError.self) { try op.run([F.iota([4, 2]), Self.ints([4])]) }
    }

    @Test func gatherNDAddressesSlices() throws {
        // iota([2, 3, 2]); tuples (1, −1) → x[1, 2, :] = [10, 11] and (0, 0) → [0, 1].
        let r = try F.run(GatherNDOperator.self, "GatherND", [F.iota([2, 3, 2]), Tensor(shape: [2, 2], int64s: [1, -1, 0, 0])])[0]
        #expect(r.shape == [2, 2])
        #expect(r.floats == [10, 11, 0, 1])
        // batch_dims 1: batch 0 takes row 2 ([4, 5]), batch 1 takes row 0 ([6, 7]).
        let b = try F.run(GatherNDOperator.self, "GatherND", [F.iota([2, 3, 2]), Tensor(shape: [2, 1], int64s: [2, 0])],
                          attributes: ["batch_dims": .int(1)])[0]
        #expect(b.floats == [4, 5, 6, 7])
    }

    @Test func splitUneven() throws {
        // Opset 18 num_outputs=3 on a size-7 axis: ceil(7/3) = 3 → 3, 3, 1.
        let parts = try F.run(SplitOperator.self, "Split", opset: 18, [F.iota([1, 7])],
                              attributes: ["axis": .int(1), "num_outputs": .int(3)], outputs: 3)
        #expect(parts.map(\.shape) == [[1, 3], [1, 3], [1, 1]])
        #expect(parts.map { $0.floats! } == [[0, 1, 2], [3, 4, 5], [6]])
        // Explicit sizes [1, 2] along axis 0 of iota([3, 2]).
        let sized = try F.run(SplitOperator.self, "Split", opset: 13, [F.iota([3, 2]), Self.ints([1, 2])],
                              constant: [1], outputs: 2)
        #expect(sized.map { $0.floats! } == [[0, 1], [2, 3, 4, 5]])
        // Before opset 18 an uneven split without sizes is refused with the sizes in the message.
        let uneven = F.initError(SplitOperator.self, F.context("Split", opset: 13, [F.iota([7])], outputs: 3))
        #expect(uneven?.contains("size 7") == true)
    }

    @Test func layerNormalizationMatchesClosedForm() throws {
        // Row [1, 2, 3, 4]: mean 2.5, variance 1.25; row [2, 2, 2, 2]: mean 2, variance 0.
        let x = Tensor(shape: [2, 4], floats: [1, 2, 3, 4, 2, 2, 2, 2])
        let scale = Tensor(shape: [4], floats: [1, 2, 1, 0.5])
        let bias = Tensor(shape: [4], floats: [0, 0, 1, -1])
        let eps: Float = 1e-5
        let r = try F.run(LayerNormalizationOperator.self, "LayerNormalization", [x, scale, bias],
                          attributes: ["epsilon": .float(eps)], outputs: 3)
        let inv = 1 / (1.25 + eps).squareRoot()
        let expected: [Float] = [-1.5 * inv, -0.5 * inv * 2, 0.5 * inv + 1, 1.5 * inv * 0.5 - 1, 0, 0, 1, -1]
        #expect(F.close(r[0].floats!, expected, tolerance: 1e-5))
        #expect(r[1].shape == [2, 1])
        #expect(r[1].floats == [2.5, 2])
        #expect(F.close(r[2].floats!, [inv, 1 / eps.squareRoot()], tolerance: 1e-5))
        // Without bias, normalising over the last two axes of [1, 2, 2]: mean 2.5 over all four.
        let noBias = try F.run(LayerNormalizationOperator.self, "LayerNormalization",
                               [x.reshaped([2, 2, 2]), Tensor(shape: [2, 2], floats: [1, 1, 1, 1])],
                               attributes: ["axis": .int(1), "epsilon": .float(eps)])[0]
        #expect(F.close(Array(noBias.floats![0..<4]), [-1.5 * inv, -0.5 * inv, 0.5 * inv, 1.5 * inv], tolerance: 1e-5))
    }

    @Test func whereBroadcastsAllThreeOperands() throws {
        // cond [2, 1], X [1, 3], Y scalar → [2, 3].
        let cond = Tensor(shape: [2, 1], bools: [true, false])
        let x = Tensor(shape: [1, 3], floats: [1, 2, 3])
        let r = try F.run(WhereOperator.self, "Where", [cond, x, Tensor.scalar(-9)])[0]
        #expect(r.shape == [2, 3])
        #expect(r.floats == [1, 2, 3, -9, -9, -9])
        // cond [3] against X [2, 1] and Y [2, 3] (int64).
        let c2 = Tensor(shape: [3], bools: [false, true, false])
        let r2 = try F.run(WhereOperator.self, "Where", [c2, Tensor(shape: [2, 1], int64s: [7, 8]),
                                                           Tensor(shape: [2, 3], int64s: [0, 1, 2, 3, 4, 5])])[0]
        #expect(r2.int64s == [0, 7, 2, 3, 8, 5])
    }

    @Test func rangeLengthIsCeilingOfSpanOverDelta() throws {
        func range(_ s: Int64, _ l: Int64, _ d: Int64) throws -> [Int64] {
            try F.run(RangeOperator.self, "Range", [Self.scalar(s), Self.scalar(l), Self.scalar(d)], constant: [0, 1, 2])[0].int64s!
        }
        #expect(try range(0, 5, 1) == [0, 1, 2, 3, 4])
        #expect(try range(3, 14, 4) == [3, 7, 11])
        #expect(try range(10, 4, -3) == [10, 7])
        #expect(try range(5, 5, 1) == [])
        #expect(try range(5, 0, 1) == [])
        let f = try F.run(RangeOperator.self, "Range", [Tensor.scalar(1), Tensor.scalar(2), Tensor.scalar(0.25)],
                          constant: [0, 1, 2])[0]
        #expect(f.floats == [1, 1.25, 1.5, 1.75])
        let zero = F.initError(RangeOperator.self, F.context("Range", [Self.scalar(0), Self.scalar(3), Self.scalar(0)], constant: [0, 1, 2]))
        #expect(zero?.contains("delta is 0") == true)
    }

    @Test func expandBroadcastsBothWays() throws {
        // [3, 1] expanded with [2, 1, 4]: the 1 in the request keeps 3, the input's 1 becomes 4.
        let x = Tensor(shape: [3, 1], floats: [1, 2, 3])
        let r = try F.run(ExpandOperator.self, "Expand", [x, Self.ints([2, 1, 4])], constant: [1])[0]
        #expect(r.shape == [2, 3, 4])
        let one: [Float] = [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
        #expect(r.floats == one + one)
        let bad = F.initError(ExpandOperator.self, F.context("Expand", [x, Self.ints([2, 4])], constant: [1]))
        #expect(bad?.contains("cannot be expanded") == true)
    }

    @Test func softmaxOfMaskedRows() throws {
        // A row masked with finfo.min everywhere is uniform (as in ONNX Runtime); a row with −inf on
        // two of three entries puts all mass on the third.
        let m = -Float.greatestFiniteMagnitude
        let x = Tensor(shape: [2, 3], floats: [m, m, m, -.infinity, 0.5, -.infinity])
        let r = try F.run(SoftmaxOperator.self, "Softmax", opset: 13, [x])[0]
        #expect(F.close(r.floats!, [1.0 / 3, 1.0 / 3, 1.0 / 3, 0, 1, 0]))
    }

    @Test func comparisonsAndLogicProduceBool() throws {
        let a = Tensor(shape: [3], int64s: [1, 2, 3])
        let b = Self.scalar(2)
        #expect(try F.run(ComparisonOperator.self, "Equal", [a, b])[0].bools == [false, true, false])
        #expect(try F.run(ComparisonOperator.self, "GreaterOrEqual", [a, b])[0].bools == [false, true, true])
        #expect(try F.run(ComparisonOperator.self, "Less", [a, b])[0].bools == [true, false, false])
        let p = Tensor(shape: [2, 1], bools: [true, false]), q = Tensor(shape: [2], bools: [true, false])
        #expect(try F.run(LogicalOperator.self, "And", [p, q])[0].bools == [true, false, false, false])
        #expect(try F.run(LogicalOperator.self, "Xor", [p, q])[0].bools == [false, true, true, false])
        #expect(try F.run(LogicalOperator.self, "Not", [q])[0].bools == [false, true])
        let mixed = F.initError(ComparisonOperator.self, F.context("Less", [a, Tensor.scalar(2)]))
        #expect(mixed?.contains("different element types") == true)
    }

    @Test func reductionsOverAxes() throws {
        // iota([2, 3]) = [[0, 1, 2], [3, 4, 5]].
        let x = F.iota([2, 3])
        let sum = try F.run(ReduceOperator.self, "ReduceSum", opset: 13, [x, Self.ints([1])], constant: [1],
                            attributes: ["keepdims": .int(0)])[0]
        #expect(sum.floats == [3, 12])
        let l2 = try F.run(ReduceOperator.self, "ReduceL2", opset: 17, [x], attributes: ["axes": .ints([0])])[0]
        #expect(l2.shape == [1, 3])
        #expect(F.close(l2.floats!, [3, Float(17).squareRoot(), Float(29).squareRoot()]))
        let mx = try F.run(ReduceOperator.self, "ReduceMax", opset: 18, [x, Self.ints([-1])], constant: [1])[0]
        #expect(mx.floats == [2, 5])
        let attrAtOpset18 = F.initError(ReduceOperator.self, F.context("ReduceL2", opset: 18, [x], attributes: ["axes": .ints([0])]))
        #expect(attrAtOpset18?.contains("input #1") == true)
    }

    @Test func shapeSlicesAndSizeCounts() throws {
        let x = Tensor.zeros([2, 3, 4, 5])
        let mid = try F.run(ShapeOperator.self, "Shape", opset: 15, [x], attributes: ["start": .int(1), "end": .int(-1)])[0]
        #expect(mid.int64s == [3, 4])
        let clamped = try F.run(ShapeOperator.self, "Shape", opset: 15, [x], attributes: ["start": .int(-10), "end": .int(99)])[0]
        #expect(clamped.int64s == [2, 3, 4, 5])
        #expect(try F.run(SizeOperator.self, "Size", [x])[0].int64s == [120])
        // Shape needs no input value: it runs on the type alone.
        let op = try ShapeOperator(F.context("Shape", [x]))
        #expect(try op.run([nil])[0].int64s == [2, 3, 4, 5])
        #expect(!ShapeOperator.needsInputValues)
    }
}

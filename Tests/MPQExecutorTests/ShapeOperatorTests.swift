import Testing
@testable import MPQExecutor
import MPQGraph

@Suite struct ShapeOperatorTests {
    typealias F = OpFixture

    static func ints(_ v: [Int]) -> Tensor { Tensor(shape: [v.count], int64s: v.map { Int64($0) }) }

    @Test func reshapeZeroAndInferred() throws {
        let x = F.iota([2, 3, 4])
        let r = try F.run(ReshapeOperator.self, "Reshape", [x, Self.ints([0, -1])], constant: [1])[0]
        #expect(r.shape == [2, 12])
        #expect(r.floats == x.floats)
        #expect(try F.run(ReshapeOperator.self, "Reshape", [x, Self.ints([-1, 0, 2])], constant: [1])[0].shape == [4, 3, 2])
        let i = try F.run(ReshapeOperator.self, "Reshape", [Self.ints([1, 2, 3, 4]), Self.ints([2, 2])], constant: [1])[0]
        #expect(i == Tensor(shape: [2, 2], int64s: [1, 2, 3, 4]))
        // allowzero = 1 keeps the 0 literally.
        let empty = Tensor(shape: [0, 3], floats: [])
        #expect(try F.run(ReshapeOperator.self, "Reshape", [empty, Self.ints([3, 0])], constant: [1],
                          attributes: ["allowzero": .int(1)])[0].shape == [3, 0])
    }

    @Test func reshapeErrors() {
        let x = F.iota([2, 3, 4])
        func err(_ shape: [Int]) -> String? {
            F.initError(ReshapeOperator.self, F.context("Reshape", [x, Self.ints(shape)], constant: [1]))
        }
        #expect(err([3, -1, -1])?.contains("more than one -1") == true)
        #expect(err([5, -1])?.contains("not divisible") == true)
        #expect(err([5, 5])?.contains("element counts must match") == true)
        #expect(err([2, -3])?.contains("invalid dimension -3") == true)
        // The shape must be a constant.
        #expect(F.initError(ReshapeOperator.self, F.context("Reshape", [x, Self.ints([24])])) != nil)
    }

    @Test func flattenAxes() throws {
        let x = F.iota([2, 3, 4])
        #expect(try F.run(FlattenOperator.self, "Flatten", [x], attributes: ["axis": .int(0)])[0].shape == [1, 24])
        let r = try F.run(FlattenOperator.self, "Flatten", [x], attributes: ["axis": .int(2)])[0]
        #expect(r.shape == [6, 4])
        #expect(r.floats == x.floats)
        #expect(try F.run(FlattenOperator.self, "Flatten", [x])[0].shape == [2, 12])
        #expect(try F.run(FlattenOperator.self, "Flatten", [x], attributes: ["axis": .int(-1)])[0].shape == [6, 4])
        #expect(try F.run(FlattenOperator.self, "Flatten", [x], attributes: ["axis": .int(3)])[0].shape == [24, 1])
        let e = F.initError(FlattenOperator.self, F.context("Flatten", [x], attributes: ["axis": .int(4)]))
        #expect(e?.contains("axis 4 is out of range") == true)
    }

    @Test func transposeElementByElement() throws {
        let x = F.iota([2, 3, 4])
        let r = try F.run(TransposeOperator.self, "Transpose", [x], attributes: ["perm": .ints([2, 0, 1])])[0]
        #expect(r.shape == [4, 2, 3])
        let v = r.floats!
        for i in 0..<4 { for j in 0..<2 { for k in 0..<3 {
            #expect(v[(i * 2 + j) * 3 + k] == Float(j * 12 + k * 4 + i))
        } } }
        // Default: reversed axes, on int64.
        let xi = Tensor(shape: [2, 3], int64s: [1, 2, 3, 4, 5, 6])
        #expect(try F.run(TransposeOperator.self, "Transpose", [xi])[0] == Tensor(shape: [3, 2], int64s: [1, 4, 2, 5, 3, 6]))
        // NCHW -> NHWC (tiled batched 2-D path) and back.
        let n = F.iota([2, 3, 4, 5])
        let nhwc = try F.run(TransposeOperator.self, "Transpose", [n], attributes: ["perm": .ints([0, 2, 3, 1])])[0]
        #expect(nhwc.shape == [2, 4, 5, 3])
        let w = nhwc.floats!
        for b in 0..<2 { for h in 0..<4 { for x in 0..<5 { for c in 0..<3 {
            #expect(w[((b * 4 + h) * 5 + x) * 3 + c] == Float(((b * 3 + c) * 4 + h) * 5 + x))
        } } } }
        let back = try F.run(TransposeOperator.self, "Transpose", [nhwc], attributes: ["perm": .ints([0, 3, 1, 2])])[0]
        #expect(back == n)
        // Large enough to cross tile boundaries.
        let big = F.iota([37, 70])
        let bt = try F.run(TransposeOperator.self, "Transpose", [big])[0].floats!
        #expect(bt[69 * 37 + 36] == Float(36 * 70 + 69))
        #expect(bt[5 * 37 + 33] == Float(33 * 70 + 5))
        let e = F.initError(TransposeOperator.self, F.context("Transpose", [x], attributes: ["perm": .ints([0, 0, 1])]))
        #expect(e?.contains("not a permutation") == true)
    }

    @Test func concatAxes() throws {
        let a = F.iota([2, 2])
        let b = F.iota([2, 3], start: 10)
        let r = try F.run(ConcatOperator.self, "Concat", [a, b], attributes: ["axis": .int(1)])[0]
        #expect(r.shape == [2, 5])
        #expect(r.floats == [0, 1, 10, 11, 12, 2, 3, 13, 14, 15])
        let n = try F.run(ConcatOperator.self, "Concat", [a, b], attributes: ["axis": .int(-1)])[0]
        #expect(n == r)
        let s = try F.run(ConcatOperator.self, "Concat", [Self.ints([1, 2]), Self.ints([]), Self.ints([3])],
                          attributes: ["axis": .int(0)])[0]
        #expect(s == Self.ints([1, 2, 3]))
        let e = F.initError(ConcatOperator.self, F.context("Concat", [a, b], attributes: ["axis": .int(0)]))
        #expect(e?.contains("dimension 1") == true)
        #expect(F.initError(ConcatOperator.self, F.context("Concat", [a, b], attributes: ["axis": .int(2)])) != nil)
    }

    @Test func squeezeUnsqueezeBothForms() throws {
        let x = F.iota([1, 3, 1, 2])
        // Opset 11: attribute.
        #expect(try F.run(SqueezeOperator.self, "Squeeze", opset: 11, [x], attributes: ["axes": .ints([0, -2])])[0].shape == [3, 2])
        // Opset 13: constant input.
        #expect(try F.run(SqueezeOperator.self, "Squeeze", opset: 13, [x, Self.ints([2])], constant: [1])[0].shape == [1, 3, 2])
        // No axes: every 1-dimension.
        #expect(try F.run(SqueezeOperator.self, "Squeeze", opset: 13, [x])[0].shape == [3, 2])
        let e = F.initError(SqueezeOperator.self, F.context("Squeeze", opset: 13, [x, Self.ints([1])], constant: [1]))
        #expect(e?.contains("not 1") == true)
        let y = F.iota([3, 2])
        let u11 = try F.run(UnsqueezeOperator.self, "Unsqueeze", opset: 11, [y], attributes: ["axes": .ints([0, 3])])[0]
        #expect(u11.shape == [1, 3, 2, 1])
        #expect(u11.floats == y.floats)
        #expect(try F.run(UnsqueezeOperator.self, "Unsqueeze", opset: 13, [y, Self.ints([-1])], constant: [1])[0].shape == [3, 2, 1])
        #expect(try F.run(UnsqueezeOperator.self, "Unsqueeze", opset: 13, [Self.ints([5]).reshaped([]), Self.ints([0])], constant: [1])[0]
                == Self.ints([5]))
        #expect(F.initError(UnsqueezeOperator.self, F.context("Unsqueeze", opset: 13, [y, Self.ints([0, 0])], constant: [1])) != nil)
        #expect(F.initError(UnsqueezeOperator.self, F.context("Unsqueeze", opset: 13, [y, Self.ints([4])], constant: [1])) != nil)
    }

    @Test func pad2D() throws {
        let x = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let pads = Self.ints([1, 2, 0, 1])
        func pad(_ mode: String, _ extra: [Tensor?] = []) throws -> Tensor {
            try F.run(PadOperator.self, "Pad", opset: 13, [x, pads] + extra, constant: [1, 2], attributes: ["mode": .string(mode)])[0]
        }
        let c = try pad("constant", [Tensor.scalar(9)])
        #expect(c.shape == [3, 6])
        #expect(c.floats == [9, 9, 9, 9, 9, 9,
                             9, 9, 1, 2, 3, 9,
                             9, 9, 4, 5, 6, 9])
        #expect(try pad("reflect").floats == [6, 5, 4, 5, 6, 5,
                                              3, 2, 1, 2, 3, 2,
                                              6, 5, 4, 5, 6, 5])
        #expect(try pad("wrap").floats == [5, 6, 4, 5, 6, 4,
                                           2, 3, 1, 2, 3, 1,
                                           5, 6, 4, 5, 6, 4])
        #expect(try pad("edge").floats == [1, 1, 1, 2, 3, 3,
                                           1, 1, 1, 2, 3, 3,
                                           4, 4, 4, 5, 6, 6])
        // Negative pads crop.
        let crop = try F.run(PadOperator.self, "Pad", opset: 13, [x, Self.ints([0, -1, 0, 0])], constant: [1])[0]
        #expect(crop == Tensor(shape: [2, 2], floats: [2, 3, 5, 6]))
        // Opset 2 attribute form.
        let old = try F.run(PadOperator.self, "Pad", opset: 2, [x], attributes: ["pads": .ints([0, 1, 0, 0]), "value": .float(-1)])[0]
        #expect(old.floats == [-1, 1, 2, 3, -1, 4, 5, 6])
        // Opset 18 axes input: pad only the last axis.
        let ax = try F.run(PadOperator.self, "Pad", opset: 18, [x, Self.ints([1, 1]), nil, Self.ints([-1])], constant: [1, 3])[0]
        #expect(ax.floats == [0, 1, 2, 3, 0, 0, 4, 5, 6, 0])
        // Runtime constant_value.
        let rt = try F.run(PadOperator.self, "Pad", opset: 13, [x, Self.ints([0, 0, 0, 1]), Tensor.scalar(7)], constant: [1])[0]
        #expect(rt.floats == [1, 2, 3, 7, 4, 5, 6, 7])
        // int64 input.
        let xi = Tensor(shape: [3], int64s: [1, 2, 3])
        #expect(try F.run(PadOperator.self, "Pad", opset: 13, [xi, Self.ints([1, 1])], constant: [1])[0].int64s == [0, 1, 2, 3, 0])
    }

    @Test func pad4D() throws {
        let x = Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4])
        let c = try F.run(PadOperator.self, "Pad", opset: 13, [x, Self.ints([0, 0, 1, 1, 0, 0, 1, 1])], constant: [1])[0]
        #expect(c.shape == [1, 1, 4, 4])
        #expect(c.floats == [0, 0, 0, 0,
                             0, 1, 2, 0,
                             0, 3, 4, 0,
                             0, 0, 0, 0])
        let e = try F.run(PadOperator.self, "Pad", opset: 13, [x, Self.ints([0, 0, 1, 0, 0, 0, 0, 1])], constant: [1],
                          attributes: ["mode": .string("edge")])[0]
        #expect(e.shape == [1, 1, 3, 3])
        #expect(e.floats == [1, 2, 2, 1, 2, 2, 3, 4, 4])
        let r = try F.run(PadOperator.self, "Pad", opset: 13, [x, Self.ints([0, 0, 1, 1, 0, 0, 0, 0])], constant: [1],
                          attributes: ["mode": .string("reflect")])[0]
        #expect(r.shape == [1, 1, 3, 3])
        #expect(r.floats == [4, 3, 4, 2, 1, 2, 4, 3, 4])
    }

    @Test func padErrors() {
        let x = F.iota([2, 3])
        #expect(F.initError(PadOperator.self, F.context("Pad", opset: 13, [x, Self.ints([1, 1])], constant: [1]))?.contains("needs 4") == true)
        #expect(F.initError(PadOperator.self, F.context("Pad", opset: 13, [x, Self.ints([0, 3, 0, 0])], constant: [1],
                                                        attributes: ["mode": .string("reflect")]))?.contains("reflect") == true)
        #expect(F.initError(PadOperator.self, F.context("Pad", opset: 13, [x, Self.ints([0, 0, 0, 0])], constant: [1],
                                                        attributes: ["mode": .string("circular")]))?.contains("mode") == true)
        #expect(F.initError(PadOperator.self, F.context("Pad", opset: 13, [x, Self.ints([-3, 0, 0, 0])], constant: [1])) != nil)
    }

    @Test func reduceMean() throws {
        let x = F.iota([2, 3, 4])
        let keep = try F.run(ReduceOperator.self, "ReduceMean", opset: 13, [x], attributes: ["axes": .ints([-1])])[0]
        #expect(keep.shape == [2, 3, 1])
        #expect(keep.floats == [1.5, 5.5, 9.5, 13.5, 17.5, 21.5])
        let drop = try F.run(ReduceOperator.self, "ReduceMean", opset: 13, [x],
                             attributes: ["axes": .ints([0, 2]), "keepdims": .int(0)])[0]
        #expect(drop.shape == [3])
        // Mean over batch and last axis of j*4 + k + 12*i: 6 + 4j + 1.5.
        #expect(drop.floats == [7.5, 11.5, 15.5])
        let mid = try F.run(ReduceOperator.self, "ReduceMean", opset: 18, [x, Self.ints([-2])], constant: [1])[0]
        #expect(mid.shape == [2, 1, 4])
        #expect(mid.floats == [4, 5, 6, 7, 16, 17, 18, 19])
        let all = try F.run(ReduceOperator.self, "ReduceMean", opset: 18, [x], attributes: ["keepdims": .int(0)])[0]
        #expect(all.shape == [])
        #expect(all.floats == [11.5])
        let noop = try F.run(ReduceOperator.self, "ReduceMean", opset: 18, [x], attributes: ["noop_with_empty_axes": .int(1)])[0]
        #expect(noop == x)
        #expect(F.initError(ReduceOperator.self, F.context("ReduceMean", opset: 13, [x], attributes: ["axes": .ints([3])])) != nil)
    }
}

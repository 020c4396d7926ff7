import Foundation
import Testing
@testable import MPQExecutor
import MPQGraph

/// Builds operator contexts by hand for the operator tests.
enum OpFixture {
    /// A context for `opType` whose inputs have the given tensors' types; inputs whose index is in
    /// `constant` are also passed as load-time constants. nil marks an omitted input.
    static func context(_ opType: String, opset: Int = 17, _ inputs: [Tensor?], constant: Set<Int> = [],
                        attributes: [String: Attribute] = [:], outputs: Int = 1) -> OperatorContext {
        let names = inputs.enumerated().map { $0.element == nil ? "" : "in\($0.offset)" }
        let node = Node(name: "n", opType: opType, inputs: names,
                        outputs: (0..<outputs).map { "out\($0)" }, attributes: attributes)
        let types = inputs.map { $0.map { TensorType($0.elementType, $0.shape) } }
        let consts = inputs.enumerated().map { constant.contains($0.offset) ? $0.element : nil }
        return OperatorContext(node: node, opset: opset, inputTypes: types, constants: consts)
    }

    /// Compiles and runs an operator, checking the result against the compiled output types.
    static func run<O: Operator>(_ type: O.Type, _ opType: String, opset: Int = 17, _ inputs: [Tensor?],
                                 constant: Set<Int> = [], attributes: [String: Attribute] = [:],
                                 outputs: Int = 1) throws -> [Tensor] {
        let ctx = context(opType, opset: opset, inputs, constant: constant, attributes: attributes, outputs: outputs)
        let op = try O(ctx)
        let result = try op.run(inputs)
        #expect(result.count == op.outputTypes.count)
        for (r, t) in zip(result, op.outputTypes) {
            #expect(r.shape == t.shape)
            #expect(r.elementType == t.elementType)
        }
        return result
    }

    static func iota(_ shape: [Int], start: Float = 0) -> Tensor {
        let n = Tensor.count(of: shape)
        return Tensor(shape: shape, floats: (0..<n).map { Float($0) + start })
    }

    static func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }

    /// The error message an operator init throws, or nil.
    static func initError<O: Operator>(_ type: O.Type, _ ctx: OperatorContext) -> String? {
        do { _ = try O(ctx); return nil } catch { return "\(error)" }
    }
}

@Suite struct ElementwiseOperatorTests {
    typealias F = OpFixture

    @Test func addSameShapeAndScalar() throws {
        let a = F.iota([4])
        let r = try F.run(BinaryOperator.self, "Add", [a, Tensor.scalar(10)])[0]
        #expect(r.shape == [4])
        #expect(r.floats == [10, 11, 12, 13])
        let s = try F.run(BinaryOperator.self, "Sub", [Tensor.scalar(1), a])[0]
        #expect(s.floats == [1, 0, -1, -2])
        let m = try F.run(BinaryOperator.self, "Mul", [a, a])[0]
        #expect(m.floats == [0, 1, 4, 9])
    }

    @Test func broadcastRank3WithColumn() throws {
        // [2,3,4] + [3,1]
        let a = F.iota([2, 3, 4])
        let b = Tensor(shape: [3, 1], floats: [100, 200, 300])
        let r = try F.run(BinaryOperator.self, "Add", [a, b])[0]
        #expect(r.shape == [2, 3, 4])
        var expected: [Float] = []
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { expected.append(Float(i * 12 + j * 4 + k) + Float((j + 1) * 100)) } } }
        #expect(r.floats == expected)
        // Reversed operand order for Sub: [3,1] - [2,3,4]
        let s = try F.run(BinaryOperator.self, "Sub", [b, a])[0]
        #expect(s.floats == zip(expected, a.floats!).map { $0 - 2 * $1 })
    }

    @Test func broadcastPerChannel() throws {
        // [1,3,1,1] * [2,3,4,5]
        let c = Tensor(shape: [1, 3, 1, 1], floats: [1, -2, 0.5])
        let x = F.iota([2, 3, 4, 5])
        let r = try F.run(BinaryOperator.self, "Mul", [c, x])[0]
        #expect(r.shape == [2, 3, 4, 5])
        let v = r.floats!
        for n in 0..<2 { for ch in 0..<3 { for h in 0..<4 { for w in 0..<5 {
            let i = ((n * 3 + ch) * 4 + h) * 5 + w
            #expect(v[i] == Float(i) * [1, -2, 0.5][ch])
        } } } }
        // Both operands broadcast: [2,1] / [1,3]
        let d = try F.run(BinaryOperator.self, "Div", [Tensor(shape: [2, 1], floats: [6, 12]),
                                                       Tensor(shape: [1, 3], floats: [1, 2, 3])])[0]
        #expect(d.shape == [2, 3])
        #expect(d.floats == [6, 3, 2, 12, 6, 4])
    }

    @Test func int64Arithmetic() throws {
        let a = Tensor(shape: [3], int64s: [7, -7, 9])
        let b = Tensor(shape: [], int64s: [2])
        #expect(try F.run(BinaryOperator.self, "Div", [a, b])[0].int64s == [3, -3, 4])
        #expect(try F.run(BinaryOperator.self, "Mul", [a, b])[0].int64s == [14, -14, 18])
        #expect(try F.run(BinaryOperator.self, "Sub", [a, b])[0].int64s == [5, -9, 7])
        let zero = Tensor(shape: [1], int64s: [0])
        let op = try BinaryOperator(F.context("Div", [a, zero]))
        #expect(throws: GraphError.self) { try op.run([a, zero]) }
    }

    @Test func binaryErrors() {
        let e = F.initError(BinaryOperator.self, F.context("Add", [F.iota([2, 3]), F.iota([4])]))
        #expect(e?.contains("do not broadcast") == true)
        let m = F.initError(BinaryOperator.self, F.context("Add", [F.iota([2]), Tensor(shape: [2], int64s: [1, 2])]))
        #expect(m?.contains("different element types") == true)
        #expect(F.initError(BinaryOperator.self, F.context("Add", [F.iota([2])])) != nil)
    }

    @Test func activations() throws {
        let xs: [Float] = [-3, -1, 0, 0.5, 2, 4]
        let x = Tensor(shape: [6], floats: xs)
        func act(_ op: String, _ attrs: [String: Attribute] = [:]) throws -> [Float] {
            try F.run(UnaryOperator.self, op, [x], attributes: attrs)[0].floats!
        }
        #expect(try act("Relu") == [0, 0, 0, 0.5, 2, 4])
        #expect(F.close(try act("LeakyRelu"), xs.map { $0 < 0 ? $0 * 0.01 : $0 }))
        #expect(F.close(try act("LeakyRelu", ["alpha": .float(0.2)]), [-0.6, -0.2, 0, 0.5, 2, 4]))
        #expect(F.close(try act("Sigmoid"), xs.map { 1 / (1 + exp(-$0)) }))
        #expect(F.close(try act("Tanh"), xs.map { tanh($0) }))
        #expect(F.close(try act("HardSigmoid"), [0, 0.3, 0.5, 0.6, 0.9, 1]))
        #expect(F.close(try act("HardSigmoid", ["alpha": .float(0.5), "beta": .float(0.25)]), [0, 0, 0.25, 0.5, 1, 1]))
        // HardSwish: x · clamp(x/6 + 1/2, 0, 1)
        #expect(F.close(try act("HardSwish"), [0, -1.0 / 3, 0, 0.5 * (0.5 / 6 + 0.5), 2 * (2.0 / 6 + 0.5), 4]))
        // Large magnitudes stay finite.
        let big = try F.run(UnaryOperator.self, "Sigmoid", [Tensor(shape: [2], floats: [-100, 100])])[0].floats!
        #expect(big == [0, 1] || F.close(big, [0, 1]))
    }

    @Test func clipForms() throws {
        let x = Tensor(shape: [5], floats: [-2, -0.5, 0, 3, 7])
        // Opset 11+: constant min and max inputs.
        var r = try F.run(ClipOperator.self, "Clip", opset: 13, [x, Tensor.scalar(0), Tensor.scalar(6)], constant: [1, 2])[0]
        #expect(r.floats == [0, 0, 0, 3, 6])
        // Runtime max, omitted min.
        r = try F.run(ClipOperator.self, "Clip", opset: 13, [x, nil, Tensor.scalar(1)])[0]
        #expect(r.floats == [-2, -0.5, 0, 1, 1])
        // No bounds: unchanged.
        r = try F.run(ClipOperator.self, "Clip", opset: 13, [x])[0]
        #expect(r.floats == x.floats)
        // Opset 6 attribute form.
        r = try F.run(ClipOperator.self, "Clip", opset: 6, [x], attributes: ["min": .float(-1), "max": .float(2)])[0]
        #expect(r.floats == [-1, -0.5, 0, 2, 2])
        #expect(F.initError(ClipOperator.self, F.context("Clip", [x, F.iota([2])])) != nil)
    }

    @Test func batchNormalization() throws {
        let x = F.iota([1, 2, 2, 1])
        let scale = Tensor(shape: [2], floats: [2, 1])
        let bias = Tensor(shape: [2], floats: [1, -1])
        let mean = Tensor(shape: [2], floats: [1, 2])
        let variance = Tensor(shape: [2], floats: [4, 0.25])
        let eps: Float = 1e-5
        let expected: [Float] = [0, 1, 2, 3].map { (v: Float) -> Float in
            let c = v < 2 ? 0 : 1
            return [2, 1][c] * (v - [1, 2][c]) / (([4, 0.25] as [Float])[c] + eps).squareRoot() + [1, -1][c]
        }
        let folded = try F.run(BatchNormalizationOperator.self, "BatchNormalization",
                               [x, scale, bias, mean, variance], constant: [1, 2, 3, 4])[0]
        #expect(F.close(folded.floats!, expected))
        let runtime = try F.run(BatchNormalizationOperator.self, "BatchNormalization", [x, scale, bias, mean, variance])[0]
        #expect(F.close(runtime.floats!, expected))
        let bad = F.initError(BatchNormalizationOperator.self,
                              F.context("BatchNormalization", [x, F.iota([3]), bias, mean, variance]))
        #expect(bad?.contains("scale") == true)
    }

    @Test func castConversions() throws {
        let f = Tensor(shape: [5], floats: [1.7, -1.7, 0, .nan, 3e20])
        let i = try F.run(CastOperator.self, "Cast", [f], attributes: ["to": .int(7)])[0]
        #expect(i.int64s == [1, -1, 0, 0, Int64.max])
        let b = try F.run(CastOperator.self, "Cast", [Tensor(shape: [3], floats: [0, 2, -0.5])], attributes: ["to": .int(9)])[0]
        #expect(b.bools == [false, true, true])
        let back = try F.run(CastOperator.self, "Cast", [Tensor(shape: [2], int64s: [3, -4])], attributes: ["to": .int(1)])[0]
        #expect(back.floats == [3, -4])
        let fromBool = try F.run(CastOperator.self, "Cast", [Tensor(shape: [2], bools: [true, false])], attributes: ["to": .int(11)])[0]
        #expect(fromBool.floats == [1, 0])
        let i32 = try F.run(CastOperator.self, "Cast", [Tensor(shape: [1], int64s: [1 << 32 + 5])], attributes: ["to": .int(6)])[0]
        #expect(i32.int64s == [5])
        #expect(F.initError(CastOperator.self, F.context("Cast", [f], attributes: ["to": .int(8)]))?.contains("to=8") == true)
    }

    @Test func constantAndIdentity() throws {
        let t = Tensor(shape: [2], floats: [1, 2])
        #expect(try F.run(ConstantOperator.self, "Constant", [], attributes: ["value": .tensor(t)])[0] == t)
        #expect(try F.run(ConstantOperator.self, "Constant", [], attributes: ["value_ints": .ints([3, 4])])[0] == Tensor(shape: [2], int64s: [3, 4]))
        #expect(try F.run(ConstantOperator.self, "Constant", [], attributes: ["value_float": .float(2.5)])[0] == Tensor.scalar(2.5))
        #expect(try F.run(ConstantOperator.self, "Constant", [], attributes: ["value_int": .int(7)])[0] == Tensor(shape: [], int64s: [7]))
        #expect(F.initError(ConstantOperator.self, F.context("Constant", [])) != nil)
        #expect(try F.run(IdentityOperator.self, "Identity", [t])[0] == t)
        let d = try F.run(IdentityOperator.self, "Dropout", [t], outputs: 2)
        #expect(d[0] == t)
        #expect(d[1].bools == [true, true])
    }
}

import Foundation
import Testing
@testable import MPQExecutor
import MPQGraph

@Suite struct SoftmaxOperatorTests {
    typealias F = OpFixture

    /// Softmax of `x` viewed as [outer, n, inner], along n, in Double.
    static func reference(_ x: [Float], outer: Int, n: Int, inner: Int, log: Bool = false) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        for o in 0..<outer {
            for j in 0..<inner {
                let idx = (0..<n).map { (o * n + $0) * inner + j }
                let m = idx.map { Double(x[$0]) }.max()!
                let s = idx.map { exp(Double(x[$0]) - m) }.reduce(0, +)
                for i in idx { out[i] = Float(log ? Double(x[i]) - m - Foundation.log(s) : exp(Double(x[i]) - m) / s) }
            }
        }
        return out
    }

    @Test func lastAxisRowsSumToOne() throws {
        let x = Tensor(shape: [2, 3], floats: [1, 2, 3, -1, 0, 5])
        let r = try F.run(SoftmaxOperator.self, "Softmax", opset: 13, [x])[0].floats!
        #expect(F.close(r, Self.reference(x.floats!, outer: 2, n: 3, inner: 1)))
        #expect(abs(r[0..<3].reduce(0, +) - 1) < 1e-6)
        #expect(abs(r[3..<6].reduce(0, +) - 1) < 1e-6)
        let e: [Float] = [1, 2, 3].map { Float(exp(Double($0))) }
        #expect(F.close(Array(r[0..<3]), e.map { $0 / e.reduce(0, +) }))
    }

    @Test func numericallyStable() throws {
        let x = Tensor(shape: [1, 3], floats: [1000, 1001, 1002])
        let r = try F.run(SoftmaxOperator.self, "Softmax", opset: 13, [x])[0].floats!
        #expect(r.allSatisfy { $0.isFinite })
        #expect(F.close(r, Self.reference([0, 1, 2], outer: 1, n: 3, inner: 1)))
        let l = try F.run(SoftmaxOperator.self, "LogSoftmax", opset: 13, [x])[0].floats!
        #expect(F.close(l, Self.reference([0, 1, 2], outer: 1, n: 3, inner: 1, log: true)))
    }

    @Test func opset11CoercesTo2D() throws {
        // axis = 1 on [2, 3, 4]: opset 11 normalises over 12 elements per batch entry.
        let x = Tensor(shape: [2, 3, 4], floats: (0..<24).map { Float($0 % 7) * 0.3 - 1 })
        let r11 = try F.run(SoftmaxOperator.self, "Softmax", opset: 11, [x], attributes: ["axis": .int(1)])[0].floats!
        #expect(F.close(r11, Self.reference(x.floats!, outer: 2, n: 12, inner: 1)))
        #expect(abs(r11[0..<12].reduce(0, +) - 1) < 1e-5)
        // Default axis 1 at opset 11 is the same thing.
        let d11 = try F.run(SoftmaxOperator.self, "Softmax", opset: 11, [x])[0].floats!
        #expect(d11 == r11)
        // Opset 13: along dimension 1 only (3 elements, stride 4).
        let r13 = try F.run(SoftmaxOperator.self, "Softmax", opset: 13, [x], attributes: ["axis": .int(1)])[0].floats!
        #expect(F.close(r13, Self.reference(x.floats!, outer: 2, n: 3, inner: 4)))
        #expect(abs(r13[0] + r13[4] + r13[8] - 1) < 1e-6)
        // Opset 13 default axis is -1.
        let d13 = try F.run(SoftmaxOperator.self, "Softmax", opset: 13, [x])[0].floats!
        #expect(F.close(d13, Self.reference(x.floats!, outer: 6, n: 4, inner: 1)))
        // LogSoftmax, strided and opset-11 forms.
        let l13 = try F.run(SoftmaxOperator.self, "LogSoftmax", opset: 13, [x], attributes: ["axis": .int(-2)])[0].floats!
        #expect(F.close(l13, Self.reference(x.floats!, outer: 2, n: 3, inner: 4, log: true)))
        let l11 = try F.run(SoftmaxOperator.self, "LogSoftmax", opset: 11, [x], attributes: ["axis": .int(2)])[0].floats!
        #expect(F.close(l11, Self.reference(x.floats!, outer: 6, n: 4, inner: 1, log: true)))
    }

    @Test func badAxis() {
        let x = F.iota([2, 3])
        let e = F.initError(SoftmaxOperator.self, F.context("Softmax", opset: 13, [x], attributes: ["axis": .int(2)]))
        #expect(e?.contains("axis 2 is out of range") == true)
        #expect(F.initError(SoftmaxOperator.self, F.context("Softmax", opset: 11, [x], attributes: ["axis": .int(-3)])) != nil)
    }
}

extension SoftmaxOperatorTests {
    @Test func stridedStableLogSoftmax() throws {
        let x = Tensor(shape: [3, 2], floats: [1000, -5, 1001, -6, 1002, -7])
        let r = try F.run(SoftmaxOperator.self, "LogSoftmax", opset: 13, [x], attributes: ["axis": .int(0)])[0].floats!
        #expect(F.close(r, Self.reference(x.floats!, outer: 1, n: 3, inner: 2, log: true)))
        let s = try F.run(SoftmaxOperator.self, "Softmax", opset: 13, [x], attributes: ["axis": .int(0)])[0].floats!
        #expect(F.close(s, Self.reference(x.floats!, outer: 1, n: 3, inner: 2)))
    }
}

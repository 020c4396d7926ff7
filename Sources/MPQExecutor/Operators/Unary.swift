import MPQGraph
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element-wise float32 activations: Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid and HardSwish.
public struct UnaryOperator: Operator {
    enum Kind: Sendable {
        case relu
        case leakyRelu(alpha: Float)
        case sigmoid
        case tanh
        case hardSigmoid(alpha: Float, beta: Float)
        case hardSwish
    }

    public let outputTypes: [TensorType]
    let kind: Kind
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let node = context.node
        switch node.opType {
        case "Relu": kind = .relu
        case "LeakyRelu": kind = .leakyRelu(alpha: try node.float("alpha", default: 0.01))
        case "Sigmoid": kind = .sigmoid
        case "Tanh": kind = .tanh
        case "HardSigmoid":
            kind = .hardSigmoid(alpha: try node.float("alpha", default: 0.2), beta: try node.float("beta", default: 0.5))
        case "HardSwish": kind = .hardSwish
        default: throw context.invalid("UnaryOperator does not implement \(node.opType)")
        }
        let x = try context.inputType(0)
        guard x.elementType == .float32 else {
            throw context.invalid("input must be float32, found \(x); Cast it to float32 first")
        }
        outputTypes = [x]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: outputTypes[0])
        guard let v = x.floats else { throw label.error("input must be float32") }
        return [Tensor(shape: x.shape, floats: apply(v))]
    }

    private func apply(_ x: [Float]) -> [Float] {
        switch kind {
        case .relu: return map(x) { $0 > 0 ? $0 : 0 }
        case .leakyRelu(let alpha): return map(x) { $0 >= 0 ? $0 : $0 * alpha }
        case .sigmoid: return map(x) { UnaryOperator.sigmoid($0) }
        case .tanh: return map(x) { tanhf($0) }
        case .hardSigmoid(let alpha, let beta): return map(x) { min(max(alpha * $0 + beta, 0), 1) }
        case .hardSwish: return map(x) { $0 * min(max($0 * (1 / 6) + 0.5, 0), 1) }
        }
    }

    /// Logistic function without overflow for large |x|.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        if x >= 0 {
            return 1 / (1 + expf(-x))
        }
        let e = expf(x)
        return e / (1 + e)
    }

    @inline(__always)
    private func map(_ x: [Float], _ f: (Float) -> Float) -> [Float] {
        let n = x.count
        if n == 0 { return [] }
        return [Float](unsafeUninitializedCapacity: n) { out, initialized in
            x.withUnsafeBufferPointer { xb in
                let xp = xb.baseAddress!, op = out.baseAddress!
                for i in 0..<n { op[i] = f(xp[i]) }
            }
            initialized = n
        }
    }
}

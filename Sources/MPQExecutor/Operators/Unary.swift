import MPQGraph
import MPQKernels
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

    /// The same expressions a fused layer epilogue computes (`MPQKernels.Activation`).
    private func apply(_ x: [Float]) -> [Float] {
        let activation: Activation
        switch kind {
        case .relu: activation = .relu
        case .leakyRelu(let alpha): activation = .leakyRelu(alpha: alpha)
        case .sigmoid: activation = .sigmoid
        case .tanh: activation = .tanh
        case .hardSigmoid(let alpha, let beta): activation = .hardSigmoid(alpha: alpha, beta: beta)
        case .hardSwish: activation = .hardSwish
        }
        let n = x.count
        if n == 0 { return [] }
        return [Float](unsafeUninitializedCapacity: n) { out, initialized in
            x.withUnsafeBufferPointer { activation.apply(from: $0.baseAddress!, to: out.baseAddress!, count: n) }
            initialized = n
        }
    }

    /// Logistic function without overflow for large |x|.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { Activation.sigmoid(x) }

}

import MPQGraph
import MPQKernels

/// The fused erf-form GELU of the internal domain (`GraphOptimizer.fuseGelus`): one pass over a float tensor,
/// in place when its input dies here.
public struct GeluOperator: Operator {
    public let outputTypes: [TensorType]
    let gelu: ErfGelu
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        guard x.elementType == .float32 else { throw context.invalid("input must be float32, found \(x)") }
        guard let gelu = ErfGelu(context.node.attributes) else {
            throw context.invalid("a fused Gelu needs the attributes argument_op (\"Div\" or \"Mul\"), argument, offset, half and grouping (0-2)")
        }
        self.gelu = gelu
        outputTypes = [x]
        label = OperatorLabel(context)
    }

    public var inPlaceInput: Int? { 0 }

    public func run(consuming inputs: consuming [Tensor?]) throws -> [Tensor] {
        _ = try label.input(inputs, 0, expecting: outputTypes[0])
        guard var v = Tensor.takeFloats(&inputs[0]) else { return try run(inputs) }
        v.withUnsafeMutableBufferPointer { b in apply(b.baseAddress!, b.baseAddress!, b.count) }
        return [Tensor(shape: outputTypes[0].shape, floats: v)]
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: outputTypes[0])
        guard let v = x.floats else { throw label.error("input must be float32") }
        let out = [Float](unsafeUninitializedCapacity: v.count) { b, initialized in
            v.withUnsafeBufferPointer { s in apply(s.baseAddress!, b.baseAddress!, v.count) }
            initialized = v.count
        }
        return [Tensor(shape: x.shape, floats: out)]
    }

    /// Blocks of whole 16-float vectors over the kernel threads (the split does not change any value).
    private func apply(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        guard count > 0 else { return }
        let vectors = (count + 15) / 16
        KernelThreads.forEachRange(count: vectors, grain: 2048) { r in
            let lo = r.lowerBound &* 16, hi = min(count, r.upperBound &* 16)
            gelu.apply(src + lo, dst + lo, count: hi - lo)
        }
    }
}

import MPQGraph
import MPQKernels

/// Clip to [min, max]: from optional inputs at opset ≥ 11 (constants, or scalars read at run
/// time), from the `min` / `max` attributes before that; missing bounds are ±infinity.
public struct ClipOperator: Operator {
    public let outputTypes: [TensorType]
    /// Bounds known at load time; nil where the bound is a run-time input.
    let lower: Float?
    let upper: Float?
    let lowerInput: Int?
    let upperInput: Int?
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        guard x.elementType == .float32 || x.elementType == .int64 else {
            throw context.invalid("input must be float32 or int64, found \(x)")
        }
        label = OperatorLabel(context)
        if context.opset < 11 {
            lower = try context.node.float("min", default: -Float.infinity)
            upper = try context.node.float("max", default: Float.infinity)
            lowerInput = nil
            upperInput = nil
        } else {
            func bound(_ i: Int, _ name: String, _ absent: Float) throws -> (Float?, Int?) {
                guard context.hasInput(i) else { return (absent, nil) }
                let t = try context.inputType(i)
                guard t.count == 1 else {
                    throw context.invalid("\(name) (input #\(i)) must be a scalar, found shape \(TensorLayout.describe(t.shape))")
                }
                guard t.elementType == x.elementType else {
                    throw context.invalid("\(name) (input #\(i)) is \(t.elementType) but the input is \(x.elementType); they must match")
                }
                if i < context.constants.count, let c = context.constants[i] { return (c.asFloats.first, nil) }
                return (nil, i)
            }
            (lower, lowerInput) = try bound(1, "min", -Float.infinity)
            (upper, upperInput) = try bound(2, "max", Float.infinity)
        }
        outputTypes = [x]
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: outputTypes[0])
        func bound(_ known: Float?, _ index: Int?, _ absent: Float) throws -> Float {
            if let known { return known }
            guard let index else { return absent }
            let t = try label.input(inputs, index)
            guard t.count == 1, let v = t.asFloats.first else { throw label.error("input #\(index) must be a scalar at run time") }
            return v
        }
        let lo = try bound(lower, lowerInput, -Float.infinity)
        let hi = try bound(upper, upperInput, Float.infinity)
        switch x.storage {
        case .float(let v):
            let n = v.count
            if n == 0 { return [x] }
            let out = [Float](unsafeUninitializedCapacity: n) { buf, c in
                // The same expression a fused layer epilogue computes; NaN passes through.
                v.withUnsafeBufferPointer { src in
                    Activation.clip(min: lo, max: hi).apply(from: src.baseAddress!, to: buf.baseAddress!, count: n)
                }
                c = n
            }
            return [Tensor(shape: x.shape, floats: out)]
        case .int64(let v):
            let l: Int64 = lo.isInfinite ? (lo < 0 ? .min : .max) : Int64(exactly: lo.rounded(.up)) ?? (lo < 0 ? .min : .max)
            let h: Int64 = hi.isInfinite ? (hi < 0 ? .min : .max) : Int64(exactly: hi.rounded(.down)) ?? (hi < 0 ? .min : .max)
            return [Tensor(shape: x.shape, int64s: v.map { min(max($0, l), h) })]
        case .bool:
            throw label.error("input must be float32 or int64")
        }
    }
}

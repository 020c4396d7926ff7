import MPQGraph
import MPQKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element-wise math functions: Erf, Sqrt, Exp, Log, Reciprocal, Floor, Ceil, Round (float32);
/// Neg, Abs, Sign (float32 or int64); IsNaN and IsInf (float32 to bool).
///
/// Domain errors follow IEEE (Sqrt of a negative is NaN, Log 0 is −inf) as in ONNX Runtime.
public struct ElementwiseMathOperator: Operator {
    enum Kind: Sendable { case erf, sqrt, exp, log, reciprocal, floor, ceil, round, neg, abs, sign, isNaN, isInf }

    public let outputTypes: [TensorType]
    let kind: Kind
    let inputType: TensorType
    let detectPositive: Bool
    let detectNegative: Bool
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        let op = context.node.opType
        let kinds: [String: Kind] = [
            "Erf": .erf, "Sqrt": .sqrt, "Exp": .exp, "Log": .log, "Reciprocal": .reciprocal, "Floor": .floor,
            "Ceil": .ceil, "Round": .round, "Neg": .neg, "Abs": .abs, "Sign": .sign, "IsNaN": .isNaN, "IsInf": .isInf,
        ]
        guard let k = kinds[op] else { throw context.invalid("ElementwiseMathOperator does not implement \(op)") }
        kind = k
        let integerOK = [Kind.neg, .abs, .sign].contains(k)
        guard x.elementType == .float32 || (integerOK && x.elementType == .int64) else {
            throw context.invalid("input is \(x); \(op) supports float32\(integerOK ? " and int64" : "") (Cast it first)")
        }
        detectPositive = try context.node.int("detect_positive", default: 1) != 0
        detectNegative = try context.node.int("detect_negative", default: 1) != 0
        inputType = x
        let outType: ElementType = (k == .isNaN || k == .isInf) ? .bool : x.elementType
        outputTypes = [TensorType(outType, x.shape)]
        label = OperatorLabel(context)
    }

    /// Erf and Exp (the transformer's element-wise math) can overwrite their float input.
    public var inPlaceInput: Int? { inputType.elementType == .float32 && (kind == .erf || kind == .exp) ? 0 : nil }

    public func run(consuming inputs: consuming [Tensor?]) throws -> [Tensor] {
        guard inPlaceInput != nil, !inputs.isEmpty else { return try run(inputs) }
        _ = try label.input(inputs, 0, expecting: inputType)
        guard var v = Tensor.takeFloats(&inputs[0]) else { return try run(inputs) }
        let n = v.count
        let erf = kind == .erf
        v.withUnsafeMutableBufferPointer { b in
            guard let p = b.baseAddress else { return }
            Self.parallel(count: n) { r in
                if erf { VectorMath.erf(p + r.lowerBound, p + r.lowerBound, count: r.count) }
                else { VectorMath.exp(p + r.lowerBound, p + r.lowerBound, count: r.count) }
            }
        }
        return [Tensor(shape: inputType.shape, floats: v)]
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        let shape = x.shape
        switch x.storage {
        case .int64(let v):
            switch kind {
            case .neg: return [Tensor(shape: shape, int64s: v.map { 0 &- $0 })]
            case .abs: return [Tensor(shape: shape, int64s: v.map { $0 < 0 ? 0 &- $0 : $0 })]
            default: return [Tensor(shape: shape, int64s: v.map { $0.signum() })]
            }
        case .float(let v):
            switch kind {
            case .isNaN: return [Tensor(shape: shape, bools: v.map { $0.isNaN })]
            case .isInf:
                let p = detectPositive, n = detectNegative
                return [Tensor(shape: shape, bools: v.map { $0.isInfinite && ($0 > 0 ? p : n) })]
            case .erf: return [Tensor(shape: shape, floats: vector(v) { VectorMath.erf($0, $1, count: $2) })]
            case .sqrt: return [Tensor(shape: shape, floats: map(v) { $0.squareRoot() })]
            case .exp: return [Tensor(shape: shape, floats: vector(v) { VectorMath.exp($0, $1, count: $2) })]
            case .log: return [Tensor(shape: shape, floats: map(v) { logf($0) })]
            case .reciprocal: return [Tensor(shape: shape, floats: map(v) { 1 / $0 })]
            case .floor: return [Tensor(shape: shape, floats: map(v) { $0.rounded(.down) })]
            case .ceil: return [Tensor(shape: shape, floats: map(v) { $0.rounded(.up) })]
            case .round: return [Tensor(shape: shape, floats: map(v) { $0.rounded(.toNearestOrEven) })]
            case .neg: return [Tensor(shape: shape, floats: map(v) { -$0 })]
            case .abs: return [Tensor(shape: shape, floats: map(v) { Swift.abs($0) })]
            case .sign: return [Tensor(shape: shape, floats: map(v) { $0 > 0 ? 1 : ($0 < 0 ? -1 : ($0.isNaN ? $0 : 0)) })]
            }
        case .bool:
            throw label.error("input must be float32 or int64, found bool")
        }
    }

    /// A `VectorMath` array kernel over the whole tensor, in parallel blocks when it is large.
    private func vector(_ x: [Float], _ f: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> [Float] {
        let n = x.count
        if n == 0 { return [] }
        return [Float](unsafeUninitializedCapacity: n) { out, initialized in
            x.withUnsafeBufferPointer { xb in
                let s = xb.baseAddress!, d = out.baseAddress!
                Self.parallel(count: n) { r in f(s + r.lowerBound, d + r.lowerBound, r.count) }
            }
            initialized = n
        }
    }

    /// Splits `0..<count` into blocks of whole 16-float vectors over the kernel threads.
    private static func parallel(count: Int, _ body: (Range<Int>) -> Void) {
        let vectors = (count + 15) / 16
        KernelThreads.forEachRange(count: vectors, grain: 4096) { r in
            body((r.lowerBound &* 16)..<min(count, r.upperBound &* 16))
        }
    }

    /// A plain loop over contiguous memory the compiler can vectorise or unroll.
    @inline(__always)
    private func map(_ x: [Float], _ f: (Float) -> Float) -> [Float] {
        let n = x.count
        if n == 0 { return [] }
        return [Float](unsafeUninitializedCapacity: n) { out, initialized in
            x.withUnsafeBufferPointer { xb in
                let s = xb.baseAddress!, d = out.baseAddress!
                for i in 0..<n { d[i] = f(s[i]) }
            }
            initialized = n
        }
    }
}

import MPQGraph

/// Cast between the storages float32, int64 and bool, following the ONNX `to` data type:
/// FLOAT (1), FLOAT16 (10), DOUBLE (11) and BFLOAT16 (16) become float32; INT64 (7), INT32 (6) and
/// the narrower integer types become int64 (wrapped to the target width); BOOL (9) becomes bool.
/// Float to integer truncates toward zero (NaN becomes 0, out-of-range values saturate).
public struct CastOperator: Operator {
    /// The integer width to wrap to, and whether it is unsigned (64 = no wrapping).
    struct IntTarget: Sendable {
        var bits: Int
        var unsigned: Bool
    }

    public let outputTypes: [TensorType]
    let inputType: TensorType
    let intTarget: IntTarget?
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        let to = try context.node.int("to")
        let target: ElementType
        switch to {
        case 1, 10, 11, 16: target = .float32; intTarget = nil
        case 7: target = .int64; intTarget = IntTarget(bits: 64, unsigned: false)
        case 13: target = .int64; intTarget = IntTarget(bits: 64, unsigned: false)
        case 6: target = .int64; intTarget = IntTarget(bits: 32, unsigned: false)
        case 12: target = .int64; intTarget = IntTarget(bits: 32, unsigned: true)
        case 5: target = .int64; intTarget = IntTarget(bits: 16, unsigned: false)
        case 4: target = .int64; intTarget = IntTarget(bits: 16, unsigned: true)
        case 3: target = .int64; intTarget = IntTarget(bits: 8, unsigned: false)
        case 2: target = .int64; intTarget = IntTarget(bits: 8, unsigned: true)
        case 9: target = .bool; intTarget = nil
        default:
            throw context.invalid("attribute to=\(to) names an unsupported data type; supported: FLOAT=1, UINT8=2, INT8=3, UINT16=4, INT16=5, INT32=6, INT64=7, BOOL=9, FLOAT16=10, DOUBLE=11, UINT32=12, UINT64=13, BFLOAT16=16")
        }
        inputType = x
        outputTypes = [TensorType(target, x.shape)]
        label = OperatorLabel(context)
    }

    /// Float to int64 truncating toward zero, without trapping on NaN or out-of-range values.
    @inline(__always)
    static func truncate(_ f: Float) -> Int64 {
        if f.isNaN { return 0 }
        if f >= 9.2233720368547758e18 { return .max }
        if f <= -9.2233720368547758e18 { return .min }
        return Int64(f)
    }

    @inline(__always)
    static func wrap(_ v: Int64, _ t: IntTarget) -> Int64 {
        switch (t.bits, t.unsigned) {
        case (32, false): return Int64(Int32(truncatingIfNeeded: v))
        case (32, true): return Int64(UInt32(truncatingIfNeeded: v))
        case (16, false): return Int64(Int16(truncatingIfNeeded: v))
        case (16, true): return Int64(UInt16(truncatingIfNeeded: v))
        case (8, false): return Int64(Int8(truncatingIfNeeded: v))
        case (8, true): return Int64(UInt8(truncatingIfNeeded: v))
        default: return v
        }
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        let shape = x.shape
        switch (outputTypes[0].elementType, x.storage) {
        case (.float32, .float): return [x]
        case (.float32, .int64(let v)): return [Tensor(shape: shape, floats: v.map { Float($0) })]
        case (.float32, .bool(let v)): return [Tensor(shape: shape, floats: v.map { $0 ? 1 : 0 })]
        case (.int64, _):
            var v: [Int64]
            switch x.storage {
            case .float(let f): v = f.map(CastOperator.truncate)
            case .int64(let i): v = i
            case .bool(let b): v = b.map { $0 ? 1 : 0 }
            }
            if let t = intTarget, t.bits < 64 { v = v.map { CastOperator.wrap($0, t) } }
            return [Tensor(shape: shape, int64s: v)]
        case (.bool, .float(let v)): return [Tensor(shape: shape, bools: v.map { $0 != 0 })]
        case (.bool, .int64(let v)): return [Tensor(shape: shape, bools: v.map { $0 != 0 })]
        case (.bool, .bool): return [x]
        }
    }
}

import MPQGraph
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pow with broadcasting: a float32 base raised to a float32 or int64 exponent (`powf`), or an
/// int64 base to an int64 exponent (exact, wrapping; negative exponents give 0 unless the base is ±1).
/// A constant exponent of 2 or 0.5 runs as a product or a square root.
public struct PowOperator: Operator {
    public let outputTypes: [TensorType]
    let plan: Broadcasting.BinaryPlan
    let baseType: TensorType
    let exponentType: TensorType
    /// A constant scalar exponent with a cheaper exact form.
    let special: Float?
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let a = try context.inputType(0), b = try context.inputType(1)
        switch (a.elementType, b.elementType) {
        case (.float32, .float32), (.float32, .int64), (.int64, .int64): break
        default:
            throw context.invalid("base \(a) and exponent \(b) are not supported; use a float32 base with a float32 or int64 exponent, or int64 for both")
        }
        guard let out = Broadcasting.shape(a.shape, b.shape) else {
            throw context.invalid("shapes \(TensorLayout.describe(a.shape)) and \(TensorLayout.describe(b.shape)) do not broadcast")
        }
        plan = Broadcasting.BinaryPlan(a: a.shape, b: b.shape, out: out)
        baseType = a
        exponentType = b
        if a.elementType == .float32, out == a.shape, let e = context.constants.count > 1 ? context.constants[1] : nil,
           e.count == 1, [2, 0.5].contains(e.asFloats[0]) {
            special = e.asFloats[0]
        } else {
            special = nil
        }
        outputTypes = [TensorType(a.elementType, out)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try label.input(inputs, 0, expecting: baseType)
        let b = try label.input(inputs, 1, expecting: exponentType)
        let shape = outputTypes[0].shape
        switch (a.storage, b.storage) {
        case (.float(let x), _):
            if special == 2 { return [Tensor(shape: shape, floats: x.map { $0 * $0 })] }
            if special == 0.5 { return [Tensor(shape: shape, floats: x.map { $0.squareRoot() })] }
            return [Tensor(shape: shape, floats: plan.map(x, b.asFloats) { powf($0, $1) })]
        case (.int64(let x), .int64(let y)):
            return [Tensor(shape: shape, int64s: plan.map(x, y, PowOperator.integerPower))]
        default:
            throw label.error("unsupported operand element types \(a.elementType) and \(b.elementType)")
        }
    }

    /// Exact integer power by squaring (wrapping on overflow).
    static func integerPower(_ base: Int64, _ exponent: Int64) -> Int64 {
        if exponent < 0 { return base == 1 ? 1 : (base == -1 ? (exponent & 1 == 0 ? 1 : -1) : 0) }
        var result: Int64 = 1, b = base, e = exponent
        while e > 0 {
            if e & 1 == 1 { result = result &* b }
            b = b &* b
            e >>= 1
        }
        return result
    }
}

import MPQGraph
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Range: `start, start + delta, …` up to (excluding) `limit`, from three constant scalars of one
/// element type (int64 or float32); the length is max(ceil((limit − start) / delta), 0).
public struct RangeOperator: Operator {
    public let outputTypes: [TensorType]
    let value: Tensor

    public init(_ context: OperatorContext) throws {
        let names = ["start", "limit", "delta"]
        var scalars: [Tensor] = []
        for (i, name) in names.enumerated() {
            let t = try context.constant(i, what: name)
            guard t.count == 1 else {
                throw context.invalid("\(name) (input #\(i)) must be a scalar, found shape \(TensorLayout.describe(t.shape))")
            }
            scalars.append(t)
        }
        let type = scalars[0].elementType
        guard scalars.allSatisfy({ $0.elementType == type }) else {
            throw context.invalid("start, limit and delta must have one element type, found \(scalars.map { "\($0.elementType)" }.joined(separator: ", "))")
        }
        switch type {
        case .int64:
            let s = scalars[0].int64s![0], l = scalars[1].int64s![0], d = scalars[2].int64s![0]
            guard d != 0 else { throw context.invalid("delta is 0; the range would never reach limit \(l)") }
            // ceil((l − s) / d) in exact integer arithmetic.
            let span = l.subtractingReportingOverflow(s)
            guard !span.overflow else { throw context.invalid("limit − start overflows int64 (start \(s), limit \(l))") }
            var n = span.partialValue / d
            if span.partialValue % d != 0 && (span.partialValue < 0) == (d < 0) { n += 1 }
            n = max(n, 0)
            guard n <= 1 << 31 else { throw context.invalid("the range has \(n) elements; at most 2^31 are supported") }
            value = Tensor(shape: [Int(n)], int64s: (0..<n).map { s &+ $0 &* d })
        case .float32:
            let s = scalars[0].floats![0], l = scalars[1].floats![0], d = scalars[2].floats![0]
            guard d != 0, s.isFinite, l.isFinite, d.isFinite else {
                throw context.invalid("start \(s), limit \(l) and delta \(d) must be finite with delta ≠ 0")
            }
            let n = max(Int(ceilf((l - s) / d)), 0)
            guard n <= 1 << 31 else { throw context.invalid("the range has \(n) elements; at most 2^31 are supported") }
            value = Tensor(shape: [n], floats: (0..<n).map { s + Float($0) * d })
        case .bool:
            throw context.invalid("start, limit and delta must be int64 or float32, not bool")
        }
        outputTypes = [TensorType(type, value.shape)]
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] { [value] }
}

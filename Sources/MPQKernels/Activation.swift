#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An element-wise activation that layers (Conv, Gemm, MatMul) can apply in their epilogue, while
/// the freshly computed tile is still in cache.
///
/// Every case computes exactly the same float expression as the stand-alone ONNX operator in
/// MPQExecutor (which calls these functions too), so fusing an activation never changes a result.
public enum Activation: Sendable, Hashable {
    case none
    case relu
    /// Clip to `[min, max]` (NaN passes through).
    case clip(min: Float, max: Float)
    case leakyRelu(alpha: Float)
    case hardSigmoid(alpha: Float, beta: Float)
    case hardSwish
    case sigmoid
    case tanh

    /// Applies the activation in place to `count` contiguous floats.
    @inlinable
    public func apply(_ p: UnsafeMutablePointer<Float>, count: Int) {
        apply(from: UnsafePointer(p), to: p, count: count)
    }

    /// Writes `activation(src[i])` to `dst[i]` for `i < count` (`src` may equal `dst`).
    @inlinable
    public func apply(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .none:
            if UnsafePointer(dst) != src { dst.update(from: src, count: count) }
        case .relu:
            for i in 0..<count { let a = src[i]; dst[i] = a > 0 ? a : 0 }
        case let .clip(lo, hi):
            // Written as compare-and-select so it vectorises; NaN passes through.
            for i in 0..<count {
                let a = src[i]
                let b = a < lo ? lo : a
                dst[i] = b > hi ? hi : b
            }
        case let .leakyRelu(alpha):
            for i in 0..<count { let a = src[i]; dst[i] = a >= 0 ? a : a * alpha }
        case let .hardSigmoid(alpha, beta):
            for i in 0..<count { dst[i] = Swift.min(Swift.max(alpha * src[i] + beta, 0), 1) }
        case .hardSwish:
            for i in 0..<count { let a = src[i]; dst[i] = a * Swift.min(Swift.max(a * (1 / 6) + 0.5, 0), 1) }
        case .sigmoid:
            for i in 0..<count { dst[i] = Activation.sigmoid(src[i]) }
        case .tanh:
            for i in 0..<count { dst[i] = tanhf(src[i]) }
        }
    }

    /// Adds `bias` to `count` contiguous floats and applies the activation, in place.
    @inlinable
    public func apply(_ p: UnsafeMutablePointer<Float>, count: Int, bias: Float) {
        switch self {
        case .none:
            for i in 0..<count { p[i] += bias }
        case .relu:
            for i in 0..<count { let a = p[i] + bias; p[i] = a > 0 ? a : 0 }
        case let .clip(lo, hi):
            for i in 0..<count {
                let a = p[i] + bias
                let b = a < lo ? lo : a
                p[i] = b > hi ? hi : b
            }
        default:
            for i in 0..<count { p[i] += bias }
            apply(p, count: count)
        }
    }

    /// Writes `activation(src[i] + bias)` to `dst[i]` for `i < count` (`src` may equal `dst`).
    @inlinable
    public func apply(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int, bias: Float) {
        switch self {
        case .none:
            for i in 0..<count { dst[i] = src[i] + bias }
        case .relu:
            for i in 0..<count { let a = src[i] + bias; dst[i] = a > 0 ? a : 0 }
        case let .clip(lo, hi):
            for i in 0..<count {
                let a = src[i] + bias
                let b = a < lo ? lo : a
                dst[i] = b > hi ? hi : b
            }
        default:
            for i in 0..<count { dst[i] = src[i] + bias }
            apply(dst, count: count)
        }
    }

    /// Whether the activation leaves every value unchanged.
    @inlinable public var isIdentity: Bool { if case .none = self { return true } else { return false } }

    /// Logistic function without overflow for large |x|.
    @inlinable
    public static func sigmoid(_ x: Float) -> Float {
        if x >= 0 {
            return 1 / (1 + expf(-x))
        }
        let e = expf(x)
        return e / (1 + e)
    }
}

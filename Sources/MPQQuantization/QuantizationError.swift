/// Errors raised while building quantizers, searching clipping values, correcting biases or
/// evaluating calibration losses.
public enum QuantizationError: Error, CustomStringConvertible, Equatable {
    /// A bit-width outside 2...16.
    case unsupportedBitWidth(Int)
    /// A grid configuration that has no meaning (e.g. a mid-rise grid that is unsigned).
    case invalidGrid(String)
    /// A clipping value or range that is negative, not finite, or otherwise unusable.
    case invalidClipping(String)
    /// A per-channel axis outside the tensor's rank, or a channel count that does not match.
    case channelMismatch(String)
    /// A tensor whose element type is not float32.
    case notFloat(String)
    /// Shapes that do not fit together.
    case shapeMismatch(String)
    /// A norm p outside the supported range, or another bad argument.
    case invalidArgument(String)
    /// A graph construct the policy or bias correction cannot interpret.
    case unsupportedLayer(String)

    public var description: String {
        switch self {
        case .unsupportedBitWidth(let b): return "bit-width \(b) is not supported (use 2...16)"
        case .invalidGrid(let s): return "invalid quantization grid: \(s)"
        case .invalidClipping(let s): return "invalid clipping: \(s)"
        case .channelMismatch(let s): return "per-channel mismatch: \(s)"
        case .notFloat(let s): return "expected a float32 tensor: \(s)"
        case .shapeMismatch(let s): return "shape mismatch: \(s)"
        case .invalidArgument(let s): return "invalid argument: \(s)"
        case .unsupportedLayer(let s): return "unsupported layer: \(s)"
        }
    }
}

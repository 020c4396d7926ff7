/// Errors raised by the optimisers in this module (mostly NLopt failures).
public enum OptimizationError: Error, Equatable, CustomStringConvertible {
    /// Arguments were rejected before running (dimension mismatch, empty problem, bad bounds...).
    case invalidArguments(String)
    /// `nlopt_create` returned NULL.
    case creationFailed
    /// NLopt returned a failure code from `nlopt_optimize` or a setter.
    /// `code` is the raw `nlopt_result`, `operation` names the call that failed.
    case nlopt(code: Int32, operation: String)

    public var description: String {
        switch self {
        case .invalidArguments(let message):
            return "invalid arguments: \(message)"
        case .creationFailed:
            return "NLopt could not create an optimiser"
        case .nlopt(let code, let operation):
            return "NLopt \(operation) failed: \(OptimizationError.name(ofNLoptCode: code)) (\(code))"
        }
    }

    /// Human-readable name of an `nlopt_result` code.
    static func name(ofNLoptCode code: Int32) -> String {
        switch code {
        case 1: return "success"
        case 2: return "stopval reached"
        case 3: return "ftol reached"
        case 4: return "xtol reached"
        case 5: return "maxeval reached"
        case 6: return "maxtime reached"
        case -1: return "generic failure"
        case -2: return "invalid arguments"
        case -3: return "out of memory"
        case -4: return "roundoff limited"
        case -5: return "forced stop"
        default: return "unknown result"
        }
    }
}

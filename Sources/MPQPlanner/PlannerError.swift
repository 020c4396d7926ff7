/// Errors building or solving an integer program.
public enum PlannerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A row refers to a variable index outside `0..<variableCount`.
    case invalidVariableIndex(constraint: Int, constraintName: String, index: Int, variableCount: Int)
    /// A row names the same variable twice.
    case duplicateVariableInConstraint(constraint: Int, constraintName: String, variable: Int)
    /// A coefficient or bound is NaN or infinite where it must be finite.
    case nonFiniteValue(location: String, value: Double)
    /// A lower bound exceeds its upper bound.
    case invalidBounds(location: String, lower: Double, upper: Double)
    /// An integer or binary variable has a fractional bound, or a binary variable a bound outside [0, 1].
    case invalidIntegerBound(variable: Int, variableName: String, value: Double)
    /// The program exceeds GLPK's size limits.
    case tooLarge(what: String, count: Int, limit: Int)
    /// An option is out of range.
    case invalidOption(String)
    /// GLPK reported a failure.
    case solverFailed(code: Int, reason: String)

    public var description: String {
        switch self {
        case .invalidVariableIndex(let c, let name, let index, let count):
            return "constraint \(PlannerError.label(c, name)) refers to variable \(index), but the program has \(count) variables (valid indices 0..<\(count))."
        case .duplicateVariableInConstraint(let c, let name, let v):
            return "constraint \(PlannerError.label(c, name)) lists variable \(v) more than once; combine its coefficients into one term."
        case .nonFiniteValue(let location, let value):
            return "\(location) is \(value); coefficients and bounds must be finite numbers (use nil for an absent bound)."
        case .invalidBounds(let location, let lower, let upper):
            return "\(location) has lower bound \(lower) above upper bound \(upper)."
        case .invalidIntegerBound(let v, let name, let value):
            return "variable \(PlannerError.label(v, name)) is integer but has bound \(value); integer bounds must be whole numbers (binary ones 0 or 1)."
        case .tooLarge(let what, let count, let limit):
            return "the program has \(count) \(what); GLPK allows at most \(limit)."
        case .invalidOption(let text):
            return "invalid solver option: \(text)."
        case .solverFailed(let code, let reason):
            return "GLPK failed (code \(code)): \(reason)."
        }
    }

    static func label(_ index: Int, _ name: String) -> String {
        name.isEmpty ? "#\(index)" : "#\(index) '\(name)'"
    }
}

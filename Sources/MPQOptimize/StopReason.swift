/// Why a multivariate minimiser stopped.
///
/// Shared by ``PowellMinimizer`` and ``BOBYQAMinimizer`` so callers can compare runs.
public enum StopReason: String, Sendable, Equatable, CustomStringConvertible {
    /// The relative function-decrease test was met (Powell's ftol test, NLopt's ftol_rel/ftol_abs).
    case functionTolerance
    /// The step-size test was met (NLopt's xtol_rel/xtol_abs; Powell has no x-based test).
    case stepTolerance
    /// The iteration limit (`maxIterations`) was reached.
    case maxIterations
    /// The evaluation budget (`maxEvaluations`) was exhausted.
    case maxEvaluations
    /// The requested stop value was reached (NLopt `stopval`).
    case stopValueReached
    /// NLopt reported success without a more specific reason.
    case success
    /// NLopt stopped because round-off limited progress; the result is usually still useful.
    case roundoffLimited
    /// Both the start-of-sweep and current values were NaN (Powell gives up, like the reference).
    case notANumber
    /// The caller's stop test was met (e.g. early stopping on held-out data).
    case stopRequested

    public var description: String { rawValue }
}

/// Common read-only view of a multivariate minimisation result.
public protocol MinimizationOutcome {
    /// The best point found (in the caller's units).
    var x: [Double] { get }
    /// The objective value at ``x``.
    var value: Double { get }
    /// The exact number of objective evaluations performed.
    var evaluations: Int { get }
    /// Why the minimiser stopped.
    var stopReason: StopReason { get }
}

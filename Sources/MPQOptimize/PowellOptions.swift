/// How ``PowellMinimizer`` scales variables before optimising.
///
/// The minimiser works in units y = x / s for a positive scale vector s and maps back with x = s·y.
/// The direction set (identity) and the first line-search step (t = 1) are in those units, so scaling
/// by the initial value makes the first step "+100 %" of each variable instead of "+1.0".
public enum PowellScaling: Sendable, Equatable {
    /// Raw units (the reference behaviour).
    case none
    /// s_i = |x0_i|, or 1 where x0_i is zero or not finite.
    case initialValue
    /// Caller-given positive scales, one per variable.
    case custom([Double])

    /// The scale vector for a start point.
    public func scales(for x0: [Double]) -> [Double] {
        switch self {
        case .none:
            return Array(repeating: 1, count: x0.count)
        case .initialValue:
            return x0.map { let m = abs($0); return (m > 0 && m.isFinite) ? m : 1 }
        case .custom(let s):
            precondition(s.count == x0.count, "PowellScaling.custom: one scale per variable")
            precondition(s.allSatisfy { $0 > 0 && $0.isFinite }, "PowellScaling.custom: scales must be positive")
            return s
        }
    }
}

/// Settings of ``PowellMinimizer``. Defaults reproduce the reference (scipy) Powell except
/// ``skipLineSearchOrigin``, which saves one evaluation per line search without changing any step.
public struct PowellOptions: Sendable {
    /// Only sets the line-search tolerance (Brent tol = 100·xtol); there is no x-based stopping test.
    public var xtol: Double = 1e-4
    /// Stop when 2(fx − fval) ≤ ftol(|fx| + |fval|) + 1e-20 after a sweep.
    public var ftol: Double = 1e-4
    /// The line searches' absolute tolerance on the step t along a direction (reference: Brent's 1e-11). Where a
    /// direction gains nothing the minimum sits at t = 0, where Brent's relative tolerance vanishes, and the
    /// reference spends about fifty evaluations narrowing t down to 1e-11, the last of them below what a caller's
    /// units can resolve.
    public var lineSearchAbsoluteTolerance: Double = BrentMinimizer.minimumTolerance
    /// Maximum number of sweeps. When both limits are nil, both default to 1000·N; when only one is
    /// given, the other is unlimited.
    public var maxIterations: Int?
    /// Maximum number of objective evaluations; never exceeded (the run stops before the call that
    /// would exceed it and returns the last accepted point).
    public var maxEvaluations: Int?
    /// Variable scaling (default raw units, like the reference).
    public var scaling: PowellScaling = .none
    /// Reuse the known f(x) at t = 0 in each line search instead of evaluating it again
    /// (the reference re-evaluates it). Every step is identical either way; only the count differs.
    public var skipLineSearchOrigin: Bool = true
    /// Optional box bounds in caller units (either may be nil; entries may be ±infinity).
    ///
    /// Bounds are handled by **clamping** (projection), not by a penalty: the objective is only ever
    /// evaluated at the projection of a trial point onto the box, and accepted points are projected.
    /// Outside the box f is therefore constant along the clamped coordinate.
    public var lowerBounds: [Double]?
    /// Upper box bounds, see ``lowerBounds``.
    public var upperBounds: [Double]?
    /// Record a ``PowellIterationRecord`` per sweep in ``PowellResult/trace``.
    public var recordTrace: Bool = false

    public init(xtol: Double = 1e-4, ftol: Double = 1e-4, maxIterations: Int? = nil, maxEvaluations: Int? = nil,
                scaling: PowellScaling = .none, skipLineSearchOrigin: Bool = true,
                lowerBounds: [Double]? = nil, upperBounds: [Double]? = nil, recordTrace: Bool = false) {
        self.xtol = xtol
        self.ftol = ftol
        self.maxIterations = maxIterations
        self.maxEvaluations = maxEvaluations
        self.scaling = scaling
        self.skipLineSearchOrigin = skipLineSearchOrigin
        self.lowerBounds = lowerBounds
        self.upperBounds = upperBounds
        self.recordTrace = recordTrace
    }

    /// The effective (iterations, evaluations) limits for N variables, following the reference rule:
    /// both 1000·N when neither is given, otherwise the missing one is unlimited (`Int.max`).
    public func resolvedLimits(dimension n: Int) -> (iterations: Int, evaluations: Int) {
        switch (maxIterations, maxEvaluations) {
        case (nil, nil): return (1000 * n, 1000 * n)
        case (let i?, nil): return (i, Int.max)
        case (nil, let e?): return (Int.max, e)
        case (let i?, let e?): return (i, e)
        }
    }
}

import CNLopt

/// Result of ``BOBYQAMinimizer/minimize(_:from:)``; mirrors ``PowellResult``.
public struct BOBYQAResult: MinimizationOutcome, Sendable {
    /// Best point found.
    public var x: [Double]
    /// f(x).
    public var value: Double
    /// Exact number of objective evaluations (counted in the callback).
    public var evaluations: Int
    /// Stop reason mapped from NLopt's result code.
    public var stopReason: StopReason
    /// The raw `nlopt_result` code.
    public var nloptCode: Int32
    /// The bounds that were used.
    public var lowerBounds: [Double]
    /// The bounds that were used.
    public var upperBounds: [Double]
}

/// M.J.D. Powell's BOBYQA (bound-constrained quadratic-model trust region) through NLopt.
///
/// The class owns one `nlopt_opt` handle (destroyed in `deinit`) for a fixed dimension; the Swift
/// objective is passed to NLopt's C callback through its `void*` context with `Unmanaged`.
/// Not thread-safe: use one instance per concurrent run.
public final class BOBYQAMinimizer {
    /// Number of variables.
    public let dimension: Int
    /// Settings applied on each ``minimize(_:from:)``.
    public var options: BOBYQAOptions
    private let handle: nlopt_opt

    /// Creates an optimiser for `dimension` variables.
    public init(dimension: Int, options: BOBYQAOptions = BOBYQAOptions()) throws(OptimizationError) {
        guard dimension > 0 else { throw .invalidArguments("dimension must be positive") }
        guard let handle = nlopt_create(NLOPT_LN_BOBYQA, UInt32(dimension)) else { throw .creationFailed }
        self.handle = handle
        self.dimension = dimension
        self.options = options
    }

    deinit {
        nlopt_destroy(handle)
    }

    /// Holds the Swift objective and its evaluation count for the C callback.
    private final class ObjectiveBox {
        let f: ([Double]) -> Double
        var evaluations = 0
        init(_ f: @escaping ([Double]) -> Double) { self.f = f }
    }

    private static let trampoline: nlopt_func = { n, x, _, context in
        let box = Unmanaged<ObjectiveBox>.fromOpaque(context!).takeUnretainedValue()
        let point = Array(UnsafeBufferPointer(start: x, count: Int(n)))
        box.evaluations += 1
        return box.f(point)
    }

    /// Minimises `f` from `x0` within the bounds of ``options``.
    ///
    /// NLopt failures (generic failure, invalid arguments, out of memory, forced stop) throw
    /// ``OptimizationError/nlopt(code:operation:)``; a round-off-limited stop is returned as a result
    /// with ``StopReason/roundoffLimited`` because the point is usually still useful.
    public func minimize(_ f: ([Double]) -> Double, from x0: [Double]) throws(OptimizationError) -> BOBYQAResult {
        guard x0.count == dimension else {
            throw .invalidArguments("start point has \(x0.count) components, expected \(dimension)")
        }
        let (lower, upper) = try options.resolvedBounds(for: x0)
        try check(nlopt_set_lower_bounds(handle, lower), "set_lower_bounds")
        try check(nlopt_set_upper_bounds(handle, upper), "set_upper_bounds")
        switch options.initialStep {
        case .nloptDefault:
            break
        case .relative(let fraction):
            guard fraction > 0 else { throw .invalidArguments("relative initial step must be positive") }
            let steps = x0.map { $0 == 0 ? fraction : fraction * abs($0) }
            try check(nlopt_set_initial_step(handle, steps), "set_initial_step")
        case .absolute(let steps):
            guard steps.count == dimension, steps.allSatisfy({ $0 > 0 }) else {
                throw .invalidArguments("expected \(dimension) positive initial steps")
            }
            try check(nlopt_set_initial_step(handle, steps), "set_initial_step")
        }
        let budget = options.maxEvaluations ?? 1000 * dimension
        guard budget > 0 else { throw .invalidArguments("maxEvaluations must be positive") }
        try check(nlopt_set_maxeval(handle, Int32(clamping: budget)), "set_maxeval")
        try check(nlopt_set_xtol_rel(handle, options.xtolRel), "set_xtol_rel")
        try check(nlopt_set_ftol_rel(handle, options.ftolRel), "set_ftol_rel")
        try check(nlopt_set_ftol_abs(handle, options.ftolAbs), "set_ftol_abs")
        try check(nlopt_set_stopval(handle, options.stopValue ?? -Double.infinity), "set_stopval")

        return try withoutActuallyEscaping(f) { (escapable) throws(OptimizationError) -> BOBYQAResult in
            let box = ObjectiveBox(escapable)
            let context = Unmanaged.passRetained(box)
            defer { context.release() }
            try check(nlopt_set_min_objective(handle, BOBYQAMinimizer.trampoline, context.toOpaque()),
                      "set_min_objective")
            var x = x0
            var value = Double.nan
            let code = nlopt_optimize(handle, &x, &value).rawValue
            // Drop the context pointer so the handle never refers to a released box.
            _ = nlopt_set_min_objective(handle, BOBYQAMinimizer.trampoline, nil)
            let reason: StopReason
            switch code {
            case 1: reason = .success
            case 2: reason = .stopValueReached
            case 3: reason = .functionTolerance
            case 4: reason = .stepTolerance
            case 5: reason = .maxEvaluations
            case -4: reason = .roundoffLimited
            default: throw .nlopt(code: code, operation: "optimize")
            }
            return BOBYQAResult(x: x, value: value, evaluations: box.evaluations, stopReason: reason,
                                nloptCode: code, lowerBounds: lower, upperBounds: upper)
        }
    }

    private func check(_ result: nlopt_result, _ operation: String) throws(OptimizationError) {
        let code = result.rawValue
        if code < 0 { throw .nlopt(code: code, operation: operation) }
    }
}

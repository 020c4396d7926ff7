/// Brent's scalar minimiser (golden section + successive parabolic interpolation), following the
/// behaviour of the common reference implementation (scipy's `brent`).
///
/// - Tolerance test: `tol1 = tolerance·|x| + 1e-11`; stop when `|x − mid| ≤ 2·tol1 − (b − a)/2`.
/// - Golden-section fraction 0.3819660; at most ``maxIterations`` iterations (default 500).
/// - Unbracketed use bracket first with ``bracket(_:from:_:valueAtFirst:growLimit:maxIterations:)``.
/// - For a known interval use ``minimizeBounded(_:lower:upper:xatol:maxEvaluations:)``.
///
/// Objectives may throw; errors propagate unchanged (``PowellMinimizer`` uses this to enforce its budget).
public struct BrentMinimizer: Sendable {
    /// Relative tolerance on x (reference default `1.48e-8`, i.e. ~sqrt of machine epsilon).
    public var tolerance: Double
    /// Maximum number of Brent iterations (one evaluation each).
    public var maxIterations: Int
    /// Absolute part of the tolerance on x (reference: ``minimumTolerance``; see
    /// ``PowellOptions/lineSearchAbsoluteTolerance`` for why a caller raises it).
    public var absoluteTolerance: Double

    /// Golden-section fraction (3 − √5)/2 as the reference rounds it.
    public static let goldenSection = 0.3819660
    /// Absolute part of the tolerance.
    public static let minimumTolerance = 1.0e-11

    public init(tolerance: Double = 1.48e-8, maxIterations: Int = 500, absoluteTolerance: Double = minimumTolerance) {
        self.tolerance = tolerance
        self.maxIterations = maxIterations
        self.absoluteTolerance = absoluteTolerance
    }

    /// Brackets from (a, b) and minimises. `evaluations` in the result includes bracketing.
    /// - Parameter valueAtFirst: f(a) when already known (saves one evaluation).
    public func minimize(_ f: (Double) throws -> Double, from a: Double = 0, _ b: Double = 1,
                         valueAtFirst: Double? = nil) rethrows -> ScalarMinimum {
        let bracket = try BrentMinimizer.bracket(f, from: a, b, valueAtFirst: valueAtFirst)
        var result = try minimize(f, bracket: bracket)
        result.evaluations += bracket.evaluations
        return result
    }

    /// Minimises f inside a bracket. `evaluations` counts only evaluations made here.
    ///
    /// An invalid bracket (see ``Bracket/isValid``, e.g. a flat function) is not searched: the best of
    /// its three points is returned with `converged == false` and no evaluation, which is how the
    /// reference recovers from a bracketing failure.
    public func minimize(_ f: (Double) throws -> Double, bracket: Bracket) rethrows -> ScalarMinimum {
        guard bracket.isValid else {
            let best = bracket.bestPoint
            return ScalarMinimum(x: best.x, value: best.value, evaluations: 0, iterations: 0, converged: false)
        }
        // Interval [lo, hi]; x best so far, w second best, v previous w.
        var lo = min(bracket.a, bracket.c)
        var hi = max(bracket.a, bracket.c)
        var x = bracket.b, w = bracket.b, v = bracket.b
        var fx = bracket.fb, fw = bracket.fb, fv = bracket.fb
        var lastStep = 0.0   // step before the previous one ("e" in the literature)
        var step = 0.0       // current step ("d")
        var evaluations = 0
        var iteration = 0
        var converged = false

        while iteration < maxIterations {
            let tol1 = tolerance * abs(x) + absoluteTolerance
            let tol2 = 2 * tol1
            let mid = 0.5 * (lo + hi)
            if abs(x - mid) <= tol2 - 0.5 * (hi - lo) {
                converged = true
                break
            }
            if abs(lastStep) <= tol1 {
                lastStep = x >= mid ? lo - x : hi - x
                step = BrentMinimizer.goldenSection * lastStep
            } else {
                // Parabola through (v, fv), (w, fw), (x, fx): vertex offset p/q from x.
                let r = (x - w) * (fx - fv)
                var q = (x - v) * (fx - fw)
                var p = (x - v) * q - (x - w) * r
                q = 2 * (q - r)
                if q > 0 { p = -p }
                q = abs(q)
                let older = lastStep
                lastStep = step
                if p > q * (lo - x) && p < q * (hi - x) && abs(p) < abs(0.5 * q * older) {
                    step = p / q
                    let u = x + step
                    if u - lo < tol2 || hi - u < tol2 {
                        step = mid - x >= 0 ? tol1 : -tol1
                    }
                } else {
                    lastStep = x >= mid ? lo - x : hi - x
                    step = BrentMinimizer.goldenSection * lastStep
                }
            }
            let u: Double
            if abs(step) < tol1 {
                u = step >= 0 ? x + tol1 : x - tol1
            } else {
                u = x + step
            }
            let fu = try f(u)
            evaluations += 1
            if fu > fx {
                if u < x { lo = u } else { hi = u }
                if fu <= fw || w == x {
                    v = w; fv = fw
                    w = u; fw = fu
                } else if fu <= fv || v == x || v == w {
                    v = u; fv = fu
                }
            } else {
                if u >= x { lo = x } else { hi = x }
                v = w; fv = fw
                w = x; fw = fx
                x = u; fx = fu
            }
            iteration += 1
        }
        return ScalarMinimum(x: x, value: fx, evaluations: evaluations, iterations: iteration, converged: converged)
    }
}

extension BrentMinimizer {
    /// Minimises f on the closed interval [lower, upper] without bracketing, the way the reference's
    /// bounded scalar minimiser (`fminbound`, `minimize_scalar(method: "bounded")`) does it.
    ///
    /// Starts at the golden-section point of the interval, then mixes parabolic and golden-section
    /// steps. Tolerance `tol1 = √ε·|x| + xatol/3`; stops when `|x − mid| ≤ 2·tol1 − (b − a)/2` or after
    /// `maxEvaluations` evaluations (`converged == false`). f is only evaluated strictly inside the
    /// interval, so a minimum on an end point is approached to within about `xatol`.
    public static func minimizeBounded(_ f: (Double) throws -> Double, lower: Double, upper: Double,
                                       xatol: Double = 1e-5, maxEvaluations: Int = 500) rethrows -> ScalarMinimum {
        precondition(lower <= upper, "minimizeBounded: lower must not exceed upper")
        let sqrtEps = (2.2e-16).squareRoot()
        let golden = 0.5 * (3 - 5.0.squareRoot())
        var lo = lower, hi = upper
        // x best, w second best, v previous w.
        var x = lo + golden * (hi - lo)
        var w = x, v = x
        var fx = try f(x)
        var fw = fx, fv = fx
        var evaluations = 1
        var iterations = 0
        var lastStep = 0.0, step = 0.0
        var mid = 0.5 * (lo + hi)
        var tol1 = sqrtEps * abs(x) + xatol / 3
        var tol2 = 2 * tol1
        var converged = true
        while abs(x - mid) > tol2 - 0.5 * (hi - lo) {
            if evaluations >= maxEvaluations {
                converged = false
                break
            }
            var useGolden = true
            if abs(lastStep) > tol1 {
                let r = (x - w) * (fx - fv)
                var q = (x - v) * (fx - fw)
                var p = (x - v) * q - (x - w) * r
                q = 2 * (q - r)
                if q > 0 { p = -p }
                q = abs(q)
                let older = lastStep
                lastStep = step
                if abs(p) < abs(0.5 * q * older) && p > q * (lo - x) && p < q * (hi - x) {
                    useGolden = false
                    step = p / q
                    let u = x + step
                    if u - lo < tol2 || hi - u < tol2 {
                        step = mid - x >= 0 ? tol1 : -tol1
                    }
                }
            }
            if useGolden {
                lastStep = x >= mid ? lo - x : hi - x
                step = golden * lastStep
            }
            let sign: Double = step >= 0 ? 1 : -1
            let u = x + sign * max(abs(step), tol1)
            let fu = try f(u)
            evaluations += 1
            iterations += 1
            if fu <= fx {
                if u >= x { lo = x } else { hi = x }
                v = w; fv = fw
                w = x; fw = fx
                x = u; fx = fu
            } else {
                if u < x { lo = u } else { hi = u }
                if fu <= fw || w == x {
                    v = w; fv = fw
                    w = u; fw = fu
                } else if fu <= fv || v == x || v == w {
                    v = u; fv = fu
                }
            }
            mid = 0.5 * (lo + hi)
            tol1 = sqrtEps * abs(x) + xatol / 3
            tol2 = 2 * tol1
        }
        return ScalarMinimum(x: x, value: fx, evaluations: evaluations, iterations: iterations, converged: converged)
    }
}

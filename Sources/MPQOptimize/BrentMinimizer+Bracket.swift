extension BrentMinimizer {
    /// Golden ratio used to grow a bracket (the reference's rounded 1.618034).
    public static let bracketGrowth = 1.618034

    /// Finds a downhill bracket starting from the two points a and b, as the reference `bracket` does.
    ///
    /// Points are swapped so the search goes downhill, then the third point is placed at
    /// `b + 1.618034·(b − a)`; while f keeps decreasing, a parabolic extrapolation is tried (limited to
    /// `growLimit` times the last step) and otherwise the bracket grows by the golden ratio.
    /// At most `maxIterations` growth steps are made; check ``Bracket/isValid`` on the result
    /// (flat or non-finite functions, or running out of steps, give an invalid bracket).
    ///
    /// - Parameter valueAtFirst: f(a) when the caller already knows it. The reference evaluates it
    ///   again; passing it saves that evaluation without changing any later step.
    public static func bracket(_ f: (Double) throws -> Double, from a: Double = 0, _ b: Double = 1,
                               valueAtFirst: Double? = nil, growLimit: Double = 110,
                               maxIterations: Int = 1000) rethrows -> Bracket {
        let tiny = 1e-21
        var evaluations = 0
        func eval(_ t: Double) throws -> Double {
            evaluations += 1
            return try f(t)
        }
        var xa = a, xb = b
        var fa: Double
        if let known = valueAtFirst { fa = known } else { fa = try eval(xa) }
        var fb = try eval(xb)
        if fa < fb {
            swap(&xa, &xb)
            swap(&fa, &fb)
        }
        var xc = xb + bracketGrowth * (xb - xa)
        var fc = try eval(xc)
        var iteration = 0
        while fc < fb {
            if iteration >= maxIterations { break }
            iteration += 1
            // Vertex of the parabola through the three points.
            let r = (xb - xa) * (fb - fc)
            let q = (xb - xc) * (fb - fa)
            let diff = q - r
            let denominator = abs(diff) < tiny ? 2 * tiny : 2 * diff
            var w = xb - ((xb - xc) * q - (xb - xa) * r) / denominator
            let wLimit = xb + growLimit * (xc - xb)
            var fw: Double
            if (w - xc) * (xb - w) > 0 {
                // Vertex between b and c.
                fw = try eval(w)
                if fw < fc {
                    xa = xb; fa = fb
                    xb = w; fb = fw
                    break
                } else if fw > fb {
                    xc = w; fc = fw
                    break
                }
                w = xc + bracketGrowth * (xc - xb)
                fw = try eval(w)
            } else if (w - wLimit) * (wLimit - xc) >= 0 {
                // Vertex beyond the growth limit: clip to it.
                w = wLimit
                fw = try eval(w)
            } else if (w - wLimit) * (xc - w) > 0 {
                // Vertex between c and the limit.
                fw = try eval(w)
                if fw < fc {
                    xb = xc; fb = fc
                    xc = w; fc = fw
                    w = xc + bracketGrowth * (xc - xb)
                    fw = try eval(w)
                }
            } else {
                // Vertex uphill: plain golden growth.
                w = xc + bracketGrowth * (xc - xb)
                fw = try eval(w)
            }
            xa = xb; fa = fb
            xb = xc; fb = fc
            xc = w; fc = fw
        }
        return Bracket(a: xa, b: xb, c: xc, fa: fa, fb: fb, fc: fc, evaluations: evaluations)
    }
}

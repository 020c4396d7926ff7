/// Least-squares degree-2 polynomial fit L(p) ≈ a·p² + b·p + c of sampled (p, L(p)) pairs, as used by
/// LAPQ's quadratic approximation over the norm p.
///
/// Unlike the reference, ``minimizer(in:)`` checks the fit: it only returns the vertex −b/(2a) when the
/// parabola is convex and the vertex lies in the range, and otherwise falls back to the best sample and
/// says why.
public struct QuadraticFit: Sendable {
    /// Why ``QuadraticFit/minimizer(in:)`` fell back to the best sample.
    public enum FallbackReason: String, Sendable, Equatable {
        /// a ≤ 0: the fitted parabola has no minimum.
        case notConvex
        /// The vertex lies outside the requested range.
        case outsideRange
        /// Fewer than three distinct p values, a singular system or non-finite data.
        case degenerate
    }

    /// The chosen minimiser.
    public struct Minimum: Sendable, Equatable {
        /// The chosen p.
        public var p: Double
        /// The fitted value at the vertex, or the sampled loss at the fallback sample.
        public var value: Double
        /// nil when p is the fitted vertex; otherwise why the best sample was used instead.
        public var fallback: FallbackReason?
        /// True when p is the fitted vertex.
        public var isVertex: Bool { fallback == nil }
    }

    /// Sample abscissae.
    public let p: [Double]
    /// Sample values.
    public let loss: [Double]
    /// Coefficient of p² (NaN when degenerate).
    public let a: Double
    /// Coefficient of p (NaN when degenerate).
    public let b: Double
    /// Constant term (NaN when degenerate).
    public let c: Double
    /// Sum of squared residuals Σ(L_i − fit(p_i))² (NaN when degenerate).
    public let residualSumOfSquares: Double

    /// True when no unique quadratic could be fitted.
    public var isDegenerate: Bool { !(a.isFinite && b.isFinite && c.isFinite) }

    /// Root-mean-square residual.
    public var rmsResidual: Double { (residualSumOfSquares / Double(p.count)).squareRoot() }

    /// Fits samples. Requires equal, non-zero counts.
    public init(p: [Double], loss: [Double]) {
        precondition(p.count == loss.count, "QuadraticFit: p and loss must have the same count")
        precondition(!p.isEmpty, "QuadraticFit: no samples")
        self.p = p
        self.loss = loss
        let (a, b, c) = QuadraticFit.solve(p: p, loss: loss)
        self.a = a
        self.b = b
        self.c = c
        if a.isFinite && b.isFinite && c.isFinite {
            var sum = 0.0
            for i in p.indices {
                let r = loss[i] - (a * p[i] * p[i] + b * p[i] + c)
                sum += r * r
            }
            residualSumOfSquares = sum
        } else {
            residualSumOfSquares = .nan
        }
    }

    /// The fitted polynomial at p.
    public func value(at p: Double) -> Double { (a * p + b) * p + c }

    /// The vertex −b/(2a) when a > 0 and it lies in `range`; otherwise the sample with the lowest loss
    /// (first on ties, NaN losses ignored when possible) with the reason.
    public func minimizer(in range: ClosedRange<Double>) -> Minimum {
        if isDegenerate { return bestSample(.degenerate) }
        guard a > 0 else { return bestSample(.notConvex) }
        let vertex = -b / (2 * a)
        guard vertex.isFinite, range.contains(vertex) else { return bestSample(.outsideRange) }
        return Minimum(p: vertex, value: value(at: vertex), fallback: nil)
    }

    private func bestSample(_ reason: FallbackReason) -> Minimum {
        var best = 0
        for i in loss.indices where loss[i] < loss[best] || (loss[best].isNaN && !loss[i].isNaN) {
            best = i
        }
        return Minimum(p: p[best], value: loss[best], fallback: reason)
    }

    /// Normal equations in the centred, normalised variable u = (p − mean)/spread, solved by
    /// Gaussian elimination with partial pivoting, then mapped back to p.
    private static func solve(p: [Double], loss: [Double]) -> (Double, Double, Double) {
        let nan = (Double.nan, Double.nan, Double.nan)
        guard p.allSatisfy(\.isFinite), loss.allSatisfy(\.isFinite) else { return nan }
        guard Set(p).count >= 3 else { return nan }
        let count = Double(p.count)
        let mean = p.reduce(0, +) / count
        let spread = p.map { abs($0 - mean) }.max()!
        guard spread > 0 else { return nan }
        // Moments S_k = Σ u^k (k = 0...4) and T_k = Σ u^k L.
        var s = [Double](repeating: 0, count: 5)
        var t = [Double](repeating: 0, count: 3)
        for i in p.indices {
            let u = (p[i] - mean) / spread
            var power = 1.0
            for k in 0..<5 {
                s[k] += power
                if k < 3 { t[k] += power * loss[i] }
                power *= u
            }
        }
        // Unknowns (c', b', a') for L ≈ a'u² + b'u + c'.
        var m: [[Double]] = [
            [s[0], s[1], s[2], t[0]],
            [s[1], s[2], s[3], t[1]],
            [s[2], s[3], s[4], t[2]],
        ]
        for col in 0..<3 {
            var pivot = col
            for row in col..<3 where abs(m[row][col]) > abs(m[pivot][col]) { pivot = row }
            guard abs(m[pivot][col]) > 1e-12 * s[0] else { return nan }
            m.swapAt(col, pivot)
            for row in (col + 1)..<3 {
                let factor = m[row][col] / m[col][col]
                for k in col..<4 { m[row][k] -= factor * m[col][k] }
            }
        }
        var coefficients = [0.0, 0.0, 0.0]
        for row in stride(from: 2, through: 0, by: -1) {
            var sum = m[row][3]
            for k in (row + 1)..<3 { sum -= m[row][k] * coefficients[k] }
            coefficients[row] = sum / m[row][row]
        }
        let (c1, b1, a1) = (coefficients[0], coefficients[1], coefficients[2])
        // Back to p: u = (p − mean)/spread.
        let a = a1 / (spread * spread)
        let b = b1 / spread - 2 * a1 * mean / (spread * spread)
        let c = c1 - b1 * mean / spread + a1 * mean * mean / (spread * spread)
        return (a, b, c)
    }
}

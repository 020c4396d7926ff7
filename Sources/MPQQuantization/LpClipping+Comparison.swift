import Foundation

extension LpClipping {
    /// One row of `compareMethods`.
    public struct MethodComparison: Sendable {
        public var size: Int
        public var bits: Int
        public var p: Double
        public var method: String
        public var alpha: Float
        /// error / best error found by any method or the dense reference scan, minus 1.
        public var excessError: Double
        public var evaluations: Int
        public var seconds: Double
    }

    /// Times Brent against the grid-refined search on seeded Laplace and Gaussian samples and reports
    /// their accuracy against a dense 400-point reference scan, all errors on the whole tensor. For
    /// measurement, not for production; returns a text table (per method: mean seconds, mean
    /// evaluations, worst excess error).
    public static func compareMethods(sizes: [Int], bits: [Int], p: [Double], repeats: Int = 3) throws -> (rows: [MethodComparison], table: String) {
        var rows: [MethodComparison] = []
        let clock = ContinuousClock()
        for size in sizes {
            for (d, kind) in ["laplace", "gaussian"].enumerated() {
                var state: UInt64 = 0x5EED &+ UInt64(size) &+ UInt64(d)
                func uniform() -> Double {
                    state &+= 0x9E37_79B9_7F4A_7C15
                    var z = state
                    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                    return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
                }
                let x: [Float] = (0..<size).map { _ in
                    if d == 0 { let u = uniform() - 0.5; return Float(-(u < 0 ? -1.0 : 1.0) * log(max(1 - 2 * abs(u), 1e-300))) }
                    return Float((-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * .pi * uniform()))
                }
                for b in bits {
                    let grid = try QuantizationGrid.signedSymmetric(bits: b)
                    for pv in p {
                        var found: [(String, Result, Double, Double)] = []
                        for (name, method) in [("brent", Method.brent), ("grid-refined", Method.gridRefined)] {
                            let clip = try LpClipping(p: pv, grid: grid, method: method)
                            var result: Result?
                            let t0 = clock.now
                            for _ in 0..<max(repeats, 1) { result = try clip(x) }
                            let elapsed = clock.now - t0
                            let s = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                            found.append((name, result!, s / Double(max(repeats, 1)), 0))
                        }
                        // Dense reference and every method's error on the whole tensor (Brent searched a
                        // subsample of it), so the figures say how good each α is for the real data.
                        let upper = x.map { abs($0) }.max()!
                        var reference = Double.infinity
                        for k in 1...400 {
                            let params = try grid.parameters(alpha: upper * Float(k) / 400)
                            reference = min(reference, lpError(x, parameters: params, p: pv))
                        }
                        found = found.map { ($0.0, $0.1, $0.2, lpError(x, parameters: $0.1.parameters, p: pv)) }
                        let best = min(reference, found.map { $0.3 }.min()!)
                        for (name, r, s, fullError) in found {
                            rows.append(MethodComparison(size: size, bits: b, p: pv, method: "\(name) \(kind)", alpha: r.alpha,
                                                         excessError: best > 0 ? fullError / best - 1 : 0,
                                                         evaluations: r.evaluations, seconds: s))
                        }
                    }
                }
            }
        }
        var text = "size      bits  p     method                 alpha      excess-error  evals  ms\n"
        for r in rows {
            text += String(format: "%-9d %-5d %-5.2f %-22@ %-10.5f %-13.2e %-6d %.3f\n", r.size, r.bits, r.p,
                           r.method as NSString, r.alpha, r.excessError, r.evaluations, r.seconds * 1000)
        }
        for name in ["brent", "grid-refined"] {
            let mine = rows.filter { $0.method.hasPrefix(name + " ") }
            guard !mine.isEmpty else { continue }
            let ms = mine.map(\.seconds).reduce(0, +) / Double(mine.count) * 1000
            let evals = Double(mine.map(\.evaluations).reduce(0, +)) / Double(mine.count)
            let worst = mine.map(\.excessError).max()!
            let bad = mine.filter { $0.excessError > 1e-3 }.count
            text += String(format: "%@: mean %.3f ms, mean %.1f evaluations, worst excess error %.2e, %d of %d runs > 1e-3\n",
                           name as NSString, ms, evals, worst, bad, mine.count)
        }
        return (rows, text)
    }
}

/// Powell's conjugate-direction method, step for step as the reference (scipy's `fmin_powell`) runs it.
///
/// One iteration ("sweep"):
/// 1. fx = fval, delta = 0.
/// 2. Line-minimise along every direction (Brent, tol = 100·xtol), moving x; remember the largest
///    single decrease `delta` and its index `bigind`.
/// 3. Call the callback.
/// 4. Stop if 2(fx − fval) ≤ ftol(|fx| + |fval|) + 1e-20, evaluations ≥ maxEvaluations, or
///    iterations ≥ maxIterations (or both fx and fval are NaN).
/// 5. d = x − x_old; evaluate fx2 = f(x + d).
/// 6. If fx > fx2 and 2(fx + fx2 − 2fval)(fx − fval − delta)² − delta(fx − fx2)² < 0: line-minimise
///    along d, then replace direction `bigind` by the last direction and the last by the step t*·d.
///
/// The objective is never cached: every evaluation is counted (``PowellResult/evaluations``) and the
/// budget is never exceeded. See ``PowellOptions`` for scaling, bounds (clamping) and the t = 0 reuse.
public struct PowellMinimizer: Sendable {
    public var options: PowellOptions

    public init(options: PowellOptions = PowellOptions()) {
        self.options = options
    }

    /// Thrown internally when the next evaluation would exceed the budget.
    struct BudgetExhausted: Error {}

    /// Thrown internally when the caller's stop test is met before an evaluation.
    struct StopRequested: Error {}

    /// Minimises `f` from `x0`.
    /// - Parameters:
    ///   - callback: called once per sweep with the current point, before the stopping tests.
    ///   - shouldStop: asked before every evaluation after the first; true ends the run at the last accepted point
    ///     (`StopReason.stopRequested`).
    public func minimize(_ f: ([Double]) -> Double, from x0: [Double],
                         callback: ((PowellProgress) -> Void)? = nil, shouldStop: (() -> Bool)? = nil) -> PowellResult {
        let n = x0.count
        precondition(n > 0, "PowellMinimizer: empty start point")
        let scales = options.scaling.scales(for: x0)
        let lower = scaledBound(options.lowerBounds, scales: scales, count: n, fill: -.infinity)
        let upper = scaledBound(options.upperBounds, scales: scales, count: n, fill: .infinity)
        for i in 0..<n { precondition(lower[i] <= upper[i], "PowellMinimizer: lower bound above upper bound") }
        let hasBounds = lower.contains { $0 > -.infinity } || upper.contains { $0 < .infinity }
        let (maxIterations, maxEvaluations) = options.resolvedLimits(dimension: n)

        func project(_ y: [Double]) -> [Double] {
            guard hasBounds else { return y }
            var p = y
            for i in 0..<n { p[i] = min(max(p[i], lower[i]), upper[i]) }
            return p
        }
        func toCaller(_ y: [Double]) -> [Double] {
            var x = y
            for i in 0..<n { x[i] *= scales[i] }
            return x
        }
        var evaluations = 0
        /// Objective in optimisation units, on projected points, under the budget.
        func g(_ y: [Double]) throws -> Double {
            guard evaluations < maxEvaluations else { throw BudgetExhausted() }
            if evaluations > 0, shouldStop?() == true { throw StopRequested() }
            evaluations += 1
            return f(toCaller(project(y)))
        }

        var y = project((0..<n).map { x0[$0] / scales[$0] })
        var directions = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        var fval = Double.nan
        var iterations = 0
        var trace: [PowellIterationRecord] = []
        var stop = StopReason.maxEvaluations

        func finish() -> PowellResult {
            PowellResult(x: toCaller(y), value: fval, iterations: iterations, evaluations: evaluations,
                         stopReason: stop, directions: directions, scales: scales, trace: trace)
        }

        do {
            fval = try g(y)
        } catch {
            return finish()
        }
        var yOld = y
        do {
            while true {
                let fx = fval
                var bigind = 0
                var delta = 0.0
                let directionsUsed = directions
                for i in 0..<n {
                    let before = fval
                    let step = try lineSearch(g, from: y, along: directions[i], value: fval, project: project)
                    fval = step.value
                    y = step.point
                    if before - fval > delta {
                        delta = before - fval
                        bigind = i
                    }
                }
                iterations += 1
                callback?(PowellProgress(iteration: iterations, x: toCaller(y), value: fval,
                                         evaluations: evaluations, directions: directionsUsed))
                var record = PowellIterationRecord(
                    iteration: iterations, valueAtStart: fx, valueAfterSweep: fval, largestDecrease: delta,
                    largestDecreaseIndex: bigind, directionsUsed: directionsUsed, extrapolatedValue: nil,
                    replacementCriterion: nil, replacedDirection: false, directionsAfter: directions, valueAtEnd: fval)
                func commit() { if options.recordTrace { trace.append(record) } }

                let bound = options.ftol * (abs(fx) + abs(fval)) + 1e-20
                if 2 * (fx - fval) <= bound { stop = .functionTolerance; commit(); break }
                if evaluations >= maxEvaluations { stop = .maxEvaluations; commit(); break }
                if iterations >= maxIterations { stop = .maxIterations; commit(); break }
                if fx.isNaN && fval.isNaN { stop = .notANumber; commit(); break }

                // Extrapolated point along the sweep's overall displacement.
                var d = [Double](repeating: 0, count: n)
                var y2 = y
                for i in 0..<n {
                    d[i] = y[i] - yOld[i]
                    y2[i] = y[i] + d[i]
                }
                yOld = y
                let fx2: Double
                do {
                    fx2 = try g(y2)
                } catch {
                    commit()
                    throw error
                }
                record.extrapolatedValue = fx2
                if fx > fx2 {
                    var t = 2 * (fx + fx2 - 2 * fval)
                    let a = fx - fval - delta
                    t *= a * a
                    let b = fx - fx2
                    t -= delta * b * b
                    record.replacementCriterion = t
                    if t < 0 {
                        let step: LineStep
                        do {
                            step = try lineSearch(g, from: y, along: d, value: fval, project: project)
                        } catch {
                            commit()
                            throw error
                        }
                        fval = step.value
                        y = step.point
                        if step.displacement.contains(where: { $0 != 0 }) {
                            directions[bigind] = directions[n - 1]
                            directions[n - 1] = step.displacement
                            record.replacedDirection = true
                        }
                    }
                }
                record.directionsAfter = directions
                record.valueAtEnd = fval
                commit()
            }
        } catch {
            stop = error is StopRequested ? .stopRequested : .maxEvaluations
        }
        return finish()
    }

    private func scaledBound(_ bound: [Double]?, scales: [Double], count n: Int, fill: Double) -> [Double] {
        guard let bound else { return Array(repeating: fill, count: n) }
        precondition(bound.count == n, "PowellMinimizer: one bound per variable")
        return (0..<n).map { bound[$0] / scales[$0] }
    }
}

import Testing
@testable import MPQOptimize

@Suite struct PowellMinimizerTests {
    @Test func rosenbrock2D() {
        let result = PowellMinimizer(options: PowellOptions(xtol: 1e-8, ftol: 1e-10))
            .minimize(TestFunctions.rosenbrock, from: [-1.2, 1])
        #expect(result.value < 1e-4)
        #expect(TestFunctions.maxAbsDifference(result.x, [1, 1]) < 1e-4)
        #expect(result.stopReason == .functionTolerance)
    }

    @Test func rosenbrock4D() {
        let result = PowellMinimizer(options: PowellOptions(xtol: 1e-8, ftol: 1e-10))
            .minimize(TestFunctions.rosenbrock, from: [-1.2, 1, -1.2, 1])
        #expect(result.value < 1e-4)
        #expect(TestFunctions.maxAbsDifference(result.x, [1, 1, 1, 1]) < 1e-4)
    }

    @Test func convexQuadraticWithKnownMinimiser() {
        // Gradient zero at (0.35, 0.3, 0.45).
        let f: ([Double]) -> Double = { v in
            let (x, y, z) = (v[0], v[1], v[2])
            return x * x + 2 * y * y + 3 * z * z + x * y + y * z - (x + 2 * y + 3 * z)
        }
        let result = PowellMinimizer().minimize(f, from: [0, 0, 0])
        #expect(TestFunctions.maxAbsDifference(result.x, [0.35, 0.3, 0.45]) < 1e-4)
    }

    @Test func rotatedQuadraticNeedsDirectionReplacement() {
        // Narrow valley along the diagonal: axis directions alone zig-zag.
        let f: ([Double]) -> Double = { v in
            let u = (v[0] + v[1] - 2) / 2.0.squareRoot()
            let w = (v[0] - v[1]) / 2.0.squareRoot()
            return u * u + 100 * w * w
        }
        let result = PowellMinimizer(options: PowellOptions(xtol: 1e-8, ftol: 1e-12, recordTrace: true))
            .minimize(f, from: [-3, 2])
        #expect(TestFunctions.maxAbsDifference(result.x, [1, 1]) < 1e-5)
        #expect(result.trace.contains { $0.replacedDirection })
        // The last direction is no longer a coordinate axis.
        let last = result.directions[1]
        #expect(last[0] != 0 && last[1] != 0)
    }

    @Test func evaluationBudgetIsNeverExceeded() {
        for skip in [true, false] {
            var calls = 0
            let result = PowellMinimizer(options: PowellOptions(maxEvaluations: 50, skipLineSearchOrigin: skip))
                .minimize({ calls += 1; return TestFunctions.rosenbrock($0) }, from: [-1.2, 1, -1.2, 1])
            #expect(calls == result.evaluations)
            #expect(result.evaluations <= 50)
            #expect(result.stopReason == .maxEvaluations)
            #expect(result.value == TestFunctions.rosenbrock(result.x))
        }
    }

    @Test func oneIterationStopsAfterExactlyOneSweep() {
        var sweeps = 0
        var evaluationsAtCallback = -1
        let result = PowellMinimizer(options: PowellOptions(maxIterations: 1))
            .minimize(TestFunctions.rosenbrock, from: [-1.2, 1, -1.2, 1]) { progress in
                sweeps += 1
                evaluationsAtCallback = progress.evaluations
            }
        #expect(sweeps == 1)
        #expect(result.iterations == 1)
        #expect(result.stopReason == .maxIterations)
        // No extrapolation or extra line search after the sweep.
        #expect(result.evaluations == evaluationsAtCallback)
    }

    @Test func defaultLimitsFollowTheReferenceRule() {
        #expect(PowellOptions().resolvedLimits(dimension: 3) == (3000, 3000))
        #expect(PowellOptions(maxIterations: 2).resolvedLimits(dimension: 3) == (2, Int.max))
        #expect(PowellOptions(maxEvaluations: 10).resolvedLimits(dimension: 3) == (Int.max, 10))
    }

    @Test func skippingTheOriginSavesOneEvaluationPerLineSearch() {
        let start = [-1.2, 1, -1.2, 1]
        let skip = PowellMinimizer(options: PowellOptions(maxIterations: 1, skipLineSearchOrigin: true))
            .minimize(TestFunctions.rosenbrock, from: start)
        let reference = PowellMinimizer(options: PowellOptions(maxIterations: 1, skipLineSearchOrigin: false))
            .minimize(TestFunctions.rosenbrock, from: start)
        #expect(skip.x == reference.x)
        #expect(skip.value == reference.value)
        #expect(reference.evaluations - skip.evaluations == 4)
    }

    /// Coordinates already at their minimum (like step multipliers that gain nothing): with an absolute line-search
    /// tolerance a sweep costs a few evaluations per coordinate instead of dozens, and lands within the tolerance.
    @Test func absoluteLineSearchToleranceSkipsNarrowingAtTheStart() {
        // Minimum at (0.3, 0, 0, 0): three of the four coordinates start at theirs.
        let f: ([Double]) -> Double = { v in (v[0] - 0.3) * (v[0] - 0.3) + abs(v[1]) + abs(v[2]) + abs(v[3]) }
        var coarse = PowellOptions(maxIterations: 1)
        coarse.lineSearchAbsoluteTolerance = 1e-2
        let reference = PowellMinimizer(options: PowellOptions(maxIterations: 1)).minimize(f, from: [0, 0, 0, 0])
        let fast = PowellMinimizer(options: coarse).minimize(f, from: [0, 0, 0, 0])
        #expect(TestFunctions.maxAbsDifference(reference.x, [0.3, 0, 0, 0]) < 1e-6)
        #expect(TestFunctions.maxAbsDifference(fast.x, [0.3, 0, 0, 0]) < 2e-2)
        #expect(fast.evaluations * 2 < reference.evaluations, "\(fast.evaluations) vs \(reference.evaluations) evaluations")
    }

    @Test func referenceStepRules() {
        let f: ([Double]) -> Double = { v in (v[0] - 1) * (v[0] - 1) + 10 * (v[1] + 2) * (v[1] + 2) }
        var afterFirst: [Double] = []
        let result = PowellMinimizer(options: PowellOptions(maxIterations: 2, recordTrace: true))
            .minimize(f, from: [0, 0]) { progress in
                if progress.iteration == 1 { afterFirst = progress.x }
            }
        #expect(TestFunctions.maxAbsDifference(afterFirst, [1, -2]) < 1e-6)
        let first = result.trace[0]
        #expect(first.directionsUsed == [[1, 0], [0, 1]])
        #expect(first.valueAtStart == 41)
        // The y search gave the largest decrease (≈ 40 against ≈ 1).
        #expect(first.largestDecreaseIndex == 1)
        #expect(abs(first.largestDecrease - 40) < 1e-6)
        // Extrapolated point 2x − x0 and the replacement test, recomputed here.
        let fx2 = f([2 * afterFirst[0], 2 * afterFirst[1]])
        #expect(first.extrapolatedValue == fx2)
        let fx = first.valueAtStart, fval = first.valueAfterSweep, delta = first.largestDecrease
        let t = 2 * (fx + fx2 - 2 * fval) * (fx - fval - delta) * (fx - fval - delta)
            - delta * (fx - fx2) * (fx - fx2)
        // (fx − fval − delta) ≈ 1 (the x decrease), so t ≈ 2·82·1 = 164 > 0 whatever the rounding of
        // fx2 ≈ fx: the rule keeps the axis directions (the sweep already found the minimum).
        #expect(abs(t - 164) < 1e-6)
        #expect(!first.replacedDirection)
        #expect(first.replacedDirection == (fx > fx2 && t < 0))
        #expect(first.directionsAfter == [[1, 0], [0, 1]])
        #expect(result.trace.count == 2 && result.trace[1].directionsUsed == [[1, 0], [0, 1]])
        #expect(result.trace.count == result.iterations)
    }

    @Test func replacementRuleHoldsOnEverySweep() throws {
        // Diagonal valley: the rule fires; check every recorded sweep against the rule recomputed here.
        let f: ([Double]) -> Double = { v in
            let u = (v[0] + v[1] - 2) / 2.0.squareRoot()
            let w = (v[0] - v[1]) / 2.0.squareRoot()
            return u * u + 100 * w * w
        }
        // Points after each sweep (before any extra line search); sweepEnds[0] is the start.
        var sweepEnds: [[Double]] = [[-3, 2]]
        let result = PowellMinimizer(options: PowellOptions(xtol: 1e-8, ftol: 1e-12, recordTrace: true))
            .minimize(f, from: [-3, 2]) { sweepEnds.append($0.x) }
        var fired = 0
        for (k, record) in result.trace.enumerated() {
            guard let fx2 = record.extrapolatedValue else {
                #expect(k == result.trace.count - 1)  // only the stopping sweep skips extrapolation
                continue
            }
            let fx = record.valueAtStart, fval = record.valueAfterSweep, delta = record.largestDecrease
            let a = fx - fval - delta, b = fx - fx2
            let t = 2 * (fx + fx2 - 2 * fval) * a * a - delta * b * b
            #expect(record.replacedDirection == (fx > fx2 && t < 0))
            if fx > fx2 { #expect(record.replacementCriterion == t) }
            if record.replacedDirection {
                fired += 1
                let bigind = record.largestDecreaseIndex
                #expect(record.directionsAfter[bigind] == record.directionsUsed[1])
                #expect(result.trace[k + 1].directionsUsed == record.directionsAfter)
                // The new last direction is parallel to x_k − x_{k−1} (both taken after the sweeps).
                let d = record.directionsAfter[1]
                let move = [sweepEnds[k + 1][0] - sweepEnds[k][0], sweepEnds[k + 1][1] - sweepEnds[k][1]]
                let cross: Double = d[0] * move[1] - d[1] * move[0]
                let size: Double = (abs(d[0]) + abs(d[1])) * (abs(move[0]) + abs(move[1]))
                #expect(abs(cross) <= 1e-9 * size)
            } else {
                #expect(record.directionsAfter == record.directionsUsed)
            }
        }
        #expect(fired >= 1)
    }

    @Test func scalingReachesTheSameMinimumWithFewerEvaluations() {
        var calls = 0
        let f: ([Double]) -> Double = { v in
            calls += 1
            let a = v[0] / 1000 - 1, b = v[1] - 1
            return a * a + b * b
        }
        let start = [300.0, 0.5]
        let raw = PowellMinimizer().minimize(f, from: start)
        let rawCalls = calls
        calls = 0
        let scaled = PowellMinimizer(options: PowellOptions(scaling: .initialValue)).minimize(f, from: start)
        #expect(calls == scaled.evaluations && rawCalls == raw.evaluations)
        #expect(abs(raw.x[0] - 1000) < 1e-2 && abs(raw.x[1] - 1) < 1e-4)
        #expect(abs(scaled.x[0] - 1000) < 1e-2 && abs(scaled.x[1] - 1) < 1e-4)
        #expect(scaled.scales == [300, 0.5])
        #expect(scaled.evaluations < raw.evaluations)
        print("scaling: raw \(raw.evaluations) evaluations, f=\(raw.value); scaled \(scaled.evaluations), f=\(scaled.value)")
    }

    @Test func boundsAreHandledByClamping() {
        var outside = false
        let result = PowellMinimizer(options: PowellOptions(lowerBounds: [-5, -5], upperBounds: [1, 5]))
            .minimize({ v in
                if v[0] > 1 || v[0] < -5 || abs(v[1]) > 5 { outside = true }
                return (v[0] - 2) * (v[0] - 2) + (v[1] - 3) * (v[1] - 3)
            }, from: [0, 0])
        #expect(!outside)
        #expect(abs(result.x[0] - 1) < 1e-9)
        #expect(abs(result.x[1] - 3) < 1e-4)
    }
}

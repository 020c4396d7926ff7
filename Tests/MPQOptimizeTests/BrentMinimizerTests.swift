import Foundation
import Testing
@testable import MPQOptimize

@Suite struct BrentMinimizerTests {
    @Test func parabolaMinimum() {
        var calls = 0
        let result = BrentMinimizer().minimize({ x in calls += 1; return (x - 2) * (x - 2) + 1 })
        #expect(abs(result.x - 2) < 1e-7)
        #expect(abs(result.value - 1) < 1e-12)
        #expect(result.converged)
        #expect(result.evaluations == calls)
    }

    @Test func quarticMinimum() {
        // f' = x²(4x − 9): minimum at 9/4 with f = −1675/256.
        let f: (Double) -> Double = { x in x * x * x * x - 3 * x * x * x + 2 }
        let result = BrentMinimizer().minimize(f, from: 0, 1)
        #expect(abs(result.x - 2.25) < 1e-7)
        #expect(abs(result.value - (-1675.0 / 256.0)) < 1e-12)
    }

    /// A minimum at 0, where the relative tolerance vanishes: the reference narrows it down to 1e-11 (dozens of
    /// evaluations); an absolute tolerance stops at its own width, still within it of the minimum.
    @Test func absoluteToleranceEndsSearchesForAMinimumAtZero() {
        let f: (Double) -> Double = { x in abs(x) + 0.1 * x * x }
        let reference = BrentMinimizer(tolerance: 1e-2).minimize(f, from: 0, 1)
        let coarse = BrentMinimizer(tolerance: 1e-2, absoluteTolerance: 1e-2).minimize(f, from: 0, 1)
        #expect(reference.converged && coarse.converged)
        #expect(abs(reference.x) < 1e-9)
        #expect(reference.evaluations > 2 * coarse.evaluations, "the reference pins the minimum down to 1e-11: \(reference.evaluations) evaluations")
        #expect(abs(coarse.x) < 2e-2)
        #expect(coarse.evaluations < 15, "\(coarse.evaluations) evaluations")
        // Away from 0 the relative part dominates and both find the same minimum.
        let g: (Double) -> Double = { x in (x - 3) * (x - 3) }
        let far = BrentMinimizer(tolerance: 1e-4, absoluteTolerance: 1e-6).minimize(g, from: 0, 1)
        #expect(abs(far.x - 3) < 1e-3)
    }

    @Test func bracketIsValid() {
        let f: (Double) -> Double = { x in (x - 7.5) * (x - 7.5) }
        let bracket = BrentMinimizer.bracket(f, from: 0, 1)
        #expect(bracket.isValid)
        let lo = min(bracket.a, bracket.c), hi = max(bracket.a, bracket.c)
        #expect(lo < 7.5 && 7.5 < hi)
        #expect(bracket.fb <= bracket.fa && bracket.fb <= bracket.fc)
        #expect(bracket.fa == f(bracket.a) && bracket.fb == f(bracket.b) && bracket.fc == f(bracket.c))
    }

    @Test func bracketGoesDownhillWhenStartIsUphill() {
        // Minimum at −4: the two start points must be swapped.
        let bracket = BrentMinimizer.bracket({ x in (x + 4) * (x + 4) }, from: 0, 1)
        #expect(bracket.isValid)
        #expect(min(bracket.a, bracket.c) < -4 && -4 < max(bracket.a, bracket.c))
    }

    @Test func knownValueAtFirstSavesOneEvaluation() {
        let f: (Double) -> Double = { x in (x - 3) * (x - 3) }
        let plain = BrentMinimizer.bracket(f, from: 0, 1)
        let reused = BrentMinimizer.bracket(f, from: 0, 1, valueAtFirst: f(0))
        #expect(reused.evaluations == plain.evaluations - 1)
        #expect(reused.a == plain.a && reused.b == plain.b && reused.c == plain.c)
    }

    @Test func flatFunctionGivesInvalidBracketAndBestPoint() {
        let bracket = BrentMinimizer.bracket({ _ in 5.0 }, from: 0, 1)
        #expect(!bracket.isValid)
        let result = BrentMinimizer().minimize({ _ in 5.0 }, bracket: bracket)
        #expect(!result.converged)
        #expect(result.x == 0 && result.value == 5)
    }

    @Test func boundedInteriorMinimum() {
        // sin on [0, 2π]: minimum −1 at 3π/2.
        let result = BrentMinimizer.minimizeBounded({ x in sin(x) }, lower: 0, upper: 2 * Double.pi)
        #expect(abs(result.x - 1.5 * Double.pi) < 1e-4)
        #expect(abs(result.value + 1) < 1e-9)
        #expect(result.converged)
    }

    @Test func boundedMinimumOnTheEdge() {
        // Unconstrained minimum at 2 lies outside [−1, 1]; the answer is the upper end.
        var outside = false
        let result = BrentMinimizer.minimizeBounded({ x in
            if x < -1 || x > 1 { outside = true }
            return (x - 2) * (x - 2)
        }, lower: -1, upper: 1, xatol: 1e-5)
        #expect(abs(result.x - 1) < 1e-4)
        #expect(!outside)
    }
}

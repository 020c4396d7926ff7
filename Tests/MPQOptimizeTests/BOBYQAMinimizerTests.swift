import Testing
@testable import MPQOptimize

@Suite struct BOBYQAMinimizerTests {
    @Test func rosenbrockExact() throws {
        let optimizer = try BOBYQAMinimizer(
            dimension: 2, options: BOBYQAOptions(bounds: .explicit(lower: [-5, -5], upper: [5, 5])))
        var calls = 0
        let result = try optimizer.minimize({ calls += 1; return TestFunctions.rosenbrock($0) }, from: [-1.2, 1])
        #expect(TestFunctions.maxAbsDifference(result.x, [1, 1]) < 1e-6)
        #expect(result.value < 1e-12)
        #expect(result.evaluations == calls)
    }

    @Test func minimumOnTheDefaultScaleBound() throws {
        // Default bounds [0.2·x0, 5·x0] = [0.2, 5] × [0.2, 5]; the unconstrained minimum x = 10 is cut at 5.
        let optimizer = try BOBYQAMinimizer(dimension: 2)
        let result = try optimizer.minimize({ v in (v[0] - 10) * (v[0] - 10) + (v[1] - 1) * (v[1] - 1) },
                                            from: [1, 1])
        #expect(result.lowerBounds == [0.2, 0.2] && result.upperBounds == [5, 5])
        #expect(abs(result.x[0] - 5) < 1e-9)
        #expect(abs(result.x[1] - 1) < 1e-6)
    }

    @Test func evaluationBudget() throws {
        let optimizer = try BOBYQAMinimizer(
            dimension: 4, options: BOBYQAOptions(bounds: .explicit(lower: [-5, -5, -5, -5], upper: [5, 5, 5, 5]),
                                                 maxEvaluations: 20))
        let result = try optimizer.minimize(TestFunctions.rosenbrock, from: [-1.2, 1, -1.2, 1])
        #expect(result.evaluations <= 20)
        #expect(result.stopReason == .maxEvaluations)
    }

    @Test func invalidArgumentsAreTypedErrors() throws {
        let optimizer = try BOBYQAMinimizer(dimension: 2)
        #expect(throws: OptimizationError.self) {
            _ = try optimizer.minimize({ _ in 0 }, from: [-1, 1])
        }
        do {
            _ = try optimizer.minimize({ _ in 0 }, from: [1])
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("expected 2"))
        }
        #expect(OptimizationError.nlopt(code: -2, operation: "optimize").description.contains("invalid arguments"))
    }
}

import Testing
@testable import MPQOptimize

@Suite struct QuadraticFitTests {
    @Test func exactParabolaVertex() {
        // L(p) = 2(p − 2.7)² + 0.5 = 2p² − 10.8p + 15.08
        let p = stride(from: 2.0, through: 4.0, by: 2.0 / 9).map { $0 }
        let fit = QuadraticFit(p: p, loss: p.map { 2 * ($0 - 2.7) * ($0 - 2.7) + 0.5 })
        #expect(abs(fit.a - 2) < 1e-9 && abs(fit.b + 10.8) < 1e-9 && abs(fit.c - 15.08) < 1e-9)
        #expect(fit.residualSumOfSquares < 1e-20)
        let minimum = fit.minimizer(in: 2...4)
        #expect(minimum.isVertex)
        #expect(abs(minimum.p - 2.7) < 1e-10)
        #expect(abs(minimum.value - 0.5) < 1e-10)
    }

    @Test func nonConvexFallsBackToBestSample() {
        let p = [2.0, 2.5, 3.0, 3.5, 4.0]
        let loss = p.map { -($0 - 3) * ($0 - 3) + 1 + 0.01 * $0 }  // concave; best sample at p = 2
        let minimum = QuadraticFit(p: p, loss: loss).minimizer(in: 2...4)
        #expect(minimum.fallback == .notConvex)
        #expect(minimum.p == 2)
        #expect(minimum.value == loss[0])
    }

    @Test func vertexOutsideRange() {
        let p = [2.0, 2.5, 3.0, 3.5, 4.0]
        let loss = p.map { ($0 - 5) * ($0 - 5) }
        let minimum = QuadraticFit(p: p, loss: loss).minimizer(in: 2...4)
        #expect(minimum.fallback == .outsideRange)
        #expect(minimum.p == 4)
    }

    @Test func degenerateSamples() {
        let fit = QuadraticFit(p: [2, 2, 3], loss: [1, 1.1, 0.5])
        #expect(fit.isDegenerate)
        let minimum = fit.minimizer(in: 2...4)
        #expect(minimum.fallback == .degenerate)
        #expect(minimum.p == 3)
    }

    @Test func noisyFitReportsResidual() {
        let p = [2.0, 2.5, 3.0, 3.5, 4.0]
        let noise = [0.01, -0.02, 0.015, -0.005, 0.0]
        let loss = zip(p, noise).map { ($0 - 3) * ($0 - 3) + $1 }
        let fit = QuadraticFit(p: p, loss: loss)
        #expect(fit.residualSumOfSquares > 0)
        #expect(fit.rmsResidual < 0.02)
        #expect(abs(fit.minimizer(in: 2...4).p - 3) < 0.05)
    }
}

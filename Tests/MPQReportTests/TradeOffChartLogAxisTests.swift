import Foundation
@testable import MPQReport
import Testing

/// A curve whose plans above 6 bits lose (almost) nothing: a linear axis puts them on the FP32 line.
private func nearlyLosslessCurve() -> TradeOffCurve {
    let increases: [(Double, Double)] = [(3, 0.5), (4, 0.05), (5, 0.004), (6, 3e-4), (7, 2e-5), (8, 0), (8.5, -1e-6)]
    var points = increases.enumerated().map { i, p in
        TradeOffCurve.Point(series: .measured, label: "plan \(i + 1)", cost: p.0, measuredLoss: 0.2 + p.1,
                            validationAccuracy: 0.95 - p.1, isChosen: i == 3)
    }
    points.append(.init(series: .uniform, label: "W8A8", cost: 8, measuredLoss: 0.2 + 1e-5, validationAccuracy: 0.95))
    return TradeOffCurve(axis: .standard(for: .averageWeightBits), budget: .init(text: "6bits", limit: 6),
                         reference: .init(loss: 0.2, accuracy: 0.95), predictedLossIsIncrease: false, points: points)
}

@Suite struct TradeOffChartLogAxisTests {
    /// Increases are drawn on a log scale: distinct small increases get distinct heights, zero and negative ones sit
    /// on the floor below the smallest positive one, with the FP32 line there and decade ticks.
    @Test func logAxisSeparatesNearlyLosslessPlans() throws {
        let chart = TradeOffChart(curve: nearlyLosslessCurve(), lossAxis: .logarithmicIncrease)
        let data = chart.plottedData.filter { $0.point.series == .measured }
        let ys = data.map(\.y)
        #expect(zip(ys, ys.dropFirst()).prefix(4).allSatisfy { $0 > $1 })   // falling increases, falling log heights
        let floor = try #require(chart.referenceValue)
        #expect(ys[5] == floor && ys[6] == floor)                           // zero and negative increases on the floor
        #expect(pow(10, floor) < 2e-5 && pow(10, floor) > 0)
        #expect(data[3].value == 3e-4 || abs(data[3].value - 3e-4) < 1e-12)
        let doc = try #require(SVGCollector.parse(chart.svg()))
        #expect(doc.withClass("axis-label y").first?.text.contains("log scale") == true)
        #expect(doc.withClass("reference").count == 1)
        #expect(doc.withClass("reference-label").first?.text.hasPrefix("FP32 (increase ≤") == true)
        let ticks = chart.yTicks(chart.yScale().domain)
        #expect(ticks.count >= 4 && ticks.contains { $0.label == "0.001" })
        #expect(doc.allText.contains("loss +0.0003"))
    }

    /// The linear axis (the default) is unchanged, and the accuracy metric ignores the loss axis.
    @Test func linearAndAccuracyChartsIgnoreTheLogAxis() throws {
        let curve = nearlyLosslessCurve()
        #expect(TradeOffChart(curve: curve).plottedData.map(\.y) == curve.points.map { $0.measuredLoss! })
        let accuracy = TradeOffChart(curve: curve, metric: .accuracy, lossAxis: .logarithmicIncrease)
        #expect(accuracy.plottedData.map(\.y) == curve.points.map { $0.validationAccuracy! })
        #expect(accuracy.yLabel == "validation accuracy")
    }

    /// A degenerate log axis (one point, nothing positive) still gives a valid SVG.
    @Test func degenerateLogAxis() throws {
        var curve = nearlyLosslessCurve()
        curve.points = [curve.points[5]]
        let svg = TradeOffChart(curve: curve, lossAxis: .logarithmicIncrease).svg()
        #expect(SVGCollector.parse(svg) != nil)
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }
}

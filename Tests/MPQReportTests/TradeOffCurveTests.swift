import Foundation
import Testing
@testable import MPQPlanner
@testable import MPQReport

func makePlan(_ names: [String], loss: Double, bits: Double, bytes: Double = 0, relativeBOPs: Double? = nil) -> Plan {
    Plan(assignment: names.map { $0 == "W8A8" ? 0 : ($0 == "W4A8" ? 1 : 2) }, candidateNames: names,
         predictedLoss: loss, costs: [.averageWeightBits: bits, .weightBytes: bytes], relativeBOPs: relativeBOPs,
         provenOptimal: true)
}

/// Three points covering quoting, empty fields and both boolean values.
func threePointCurve() -> TradeOffCurve {
    TradeOffCurve(
        axis: .standard(for: .averageWeightBits),
        budget: .init(text: "4.5bits", limit: 4.5),
        reference: .init(loss: 0.5, accuracy: 0.9),
        points: [
            .init(series: .predicted, label: "plan 1", cost: 3.5, predictedLoss: 0.25, candidateNames: ["W4A8", "W8A8"]),
            .init(series: .measured, label: "plan 1, \"fast\"", cost: 3.5, predictedLoss: 0.25, measuredLoss: 1.5,
                  onFront: false, rank: 2, tieBroken: true, selected: false),
            .init(series: .uniform, label: "W8A8", cost: 8, measuredLoss: 1.25, validationAccuracy: 0.75, isChosen: true),
        ])
}

@Suite struct TradeOffCurveTests {
    @Test func csvIsExact() {
        let expected = "series,label,cost,predicted_loss,measured_loss,validation_loss,validation_accuracy,candidates,chosen,"
            + "on_front,rank,tie_broken,selected\r\n"
            + "predicted,plan 1,3.5,0.25,,,,W4A8;W8A8,false,,,,\r\n"
            + "measured,\"plan 1, \"\"fast\"\"\",3.5,0.25,1.5,,,,false,false,2,true,false\r\n"
            + "uniform,W8A8,8.0,,1.25,,0.75,,true,,,,\r\n"
        #expect(threePointCurve().csv() == expected)
    }

    @Test func csvQuotesLineBreaks() {
        #expect(TradeOffCurve.csvField("a\nb") == "\"a\nb\"")
        #expect(TradeOffCurve.csvField("a\r\nb") == "\"a\r\nb\"")
        #expect(TradeOffCurve.csvField("plain") == "plain")
    }

    @Test func jsonRoundTrips() throws {
        let curve = threePointCurve()
        let text = try curve.json()
        #expect(try TradeOffCurve(json: text) == curve)
        #expect(text.contains("\n  \"axis\" : {"))
        // Sorted keys: "axis" < "budget" < "points" < "predictedLossIsIncrease" < "reference".
        let order = ["\"axis\"", "\"budget\"", "\"points\"", "\"predictedLossIsIncrease\"", "\"reference\""]
            .map { text.range(of: $0)!.lowerBound }
        #expect(order == order.sorted())
    }

    @Test func jsonKeepsNonFiniteValues() throws {
        var curve = threePointCurve()
        curve.points[0].cost = .infinity
        curve.points[0].predictedLoss = .nan
        let back = try TradeOffCurve(json: try curve.jsonData())
        #expect(back.points[0].cost == .infinity)
        #expect(back.points[0].predictedLoss?.isNaN == true)
    }

    @Test func buildsFromParetoFront() {
        let a = makePlan(["W4A8", "W4A8"], loss: 0.3, bits: 4, bytes: 40_000)
        let b = makePlan(["W8A8", "W4A8"], loss: 0.1, bits: 6, bytes: 60_000)
        let g = makePlan(["W2A8", "W8A8"], loss: 0.4, bits: 5, bytes: 50_000)
        let front = ParetoFront(kind: .weightBytes,
                                points: [ParetoPoint(plan: b, cost: 60_000, predictedLoss: 0.1, measuredLoss: 0.7, budgetLimit: 60_000),
                                         ParetoPoint(plan: a, cost: 40_000, predictedLoss: 0.3, budgetLimit: 40_000)],
                                greedy: [ParetoPoint(plan: g, cost: 50_000, predictedLoss: 0.4)],
                                targets: [40_000, 60_000], distinctPlans: 2)
        let curve = TradeOffCurve(front: front, chosen: b)
        #expect(curve.axis.label == "weight size (KB)")
        #expect(curve.points(in: .predicted).map(\.label) == ["plan 1", "plan 2"])
        #expect(curve.points(in: .predicted).map(\.cost) == [40, 60])
        #expect(curve.points(in: .predicted).map(\.isChosen) == [false, true])
        #expect(curve.points(in: .measured).map(\.measuredLoss) == [0.7])
        #expect(curve.points(in: .measured).first?.isChosen == true)
        #expect(curve.points(in: .greedy).map(\.cost) == [50])
        #expect(curve.points(in: .predicted)[1].candidateNames == ["W8A8", "W4A8"])

        // A chosen plan not on the front is still shown.
        let c = makePlan(["W8A8", "W8A8"], loss: 0.05, bits: 8, bytes: 80_000)
        let withExtra = TradeOffCurve(front: front, chosen: c)
        #expect(withExtra.points(in: .predicted).filter(\.isChosen).map(\.label) == ["chosen"])
    }

    @Test func standardAxes() {
        #expect(TradeOffCurve.CostAxis.standard(for: .latency).label == "latency (ms)")
        #expect(TradeOffCurve.CostAxis.standard(for: .bops, relativeBOPs: true).label == "BOPs (% of W8A8)")
        #expect(TradeOffCurve.CostAxis.standard(for: .weightBytes, maxRawValue: 5e7).label == "weight size (MB)")
        let rel = TradeOffCurve.CostAxis.standard(for: .bops, relativeBOPs: true)
        #expect(rel.display(1e9, plan: makePlan(["W4A8"], loss: 0, bits: 4, relativeBOPs: 50)) == 50)
    }
}

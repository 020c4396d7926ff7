import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import MPQPlanner
@testable import MPQReport

/// Parses an SVG and records every element's name, attributes and text.
final class SVGCollector: NSObject, XMLParserDelegate {
    struct Element { var name: String; var attributes: [String: String]; var text = "" }
    var elements: [Element] = []
    private var stack: [Int] = []
    var error: Error?

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes))
        stack.append(elements.count - 1)
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let i = stack.last { elements[i].text += string }
    }
    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }

    static func parse(_ svg: String) -> SVGCollector? {
        let collector = SVGCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        guard parser.parse(), collector.error == nil else { return nil }
        return collector
    }

    func withClass(_ cls: String) -> [Element] {
        elements.filter { ($0.attributes["class"] ?? "").split(separator: " ").map(String.init) == cls.split(separator: " ").map(String.init) }
    }
    var allText: String { elements.map(\.text).joined(separator: "\n") }
}

/// A realistic sweep: 8 ILP plans (4 measured), 3 uniform points, 4 greedy points, chosen plan at 4.5 bits.
func sampleCurve(cheapestLabel: String = "W2A8 <&>") -> TradeOffCurve {
    let costs = [2.5, 3.0, 3.5, 4.0, 4.5, 5.5, 6.5, 8.0]
    var points: [TradeOffCurve.Point] = []
    for (i, c) in costs.enumerated() {
        let loss = 0.9 * exp(-(c - 2.5) / 1.1) + 0.01
        points.append(.init(series: .predicted, label: "plan \(i + 1)", cost: c, predictedLoss: loss,
                            candidateNames: ["W\(Int(c))A8"], isChosen: c == 4.5))
        if i % 2 == 0 || c == 4.5 {
            points.append(.init(series: .measured, label: "plan \(i + 1)", cost: c, predictedLoss: loss,
                                measuredLoss: 1.1 + loss * 1.3 + 0.02, isChosen: c == 4.5))
        }
    }
    points.append(.init(series: .uniform, label: "W8A8", cost: 8, measuredLoss: 1.115, validationAccuracy: 0.76))
    points.append(.init(series: .uniform, label: "W4A8", cost: 4, measuredLoss: 1.62, validationAccuracy: 0.71))
    points.append(.init(series: .uniform, label: cheapestLabel, cost: 2, measuredLoss: 2.9, validationAccuracy: 0.3))
    for (i, c) in [7.0, 5.75, 4.5, 3.25].enumerated() {
        points.append(.init(series: .greedy, label: "greedy \(i + 1)", cost: c, predictedLoss: 0.9 * exp(-(c - 2.5) / 1.6) + 0.05))
    }
    return TradeOffCurve(axis: .standard(for: .averageWeightBits), budget: .init(text: "4.5bits", limit: 4.5),
                         reference: .init(loss: 1.1, accuracy: 0.765), points: points)
}

@Suite struct TradeOffChartTests {
    @Test func svgIsWellFormedWithAllSeries() throws {
        let svg = TradeOffChart(curve: sampleCurve(), title: "ResNet-18: loss against bits").svg()
        let doc = try #require(SVGCollector.parse(svg))
        #expect(doc.elements.first?.name == "svg")
        #expect(doc.elements.first?.attributes["width"] == "720")
        #expect(doc.withClass("marker predicted").count == 8)
        #expect(doc.withClass("marker predicted").allSatisfy { $0.name == "circle" && $0.attributes["fill"] == "#ffffff" })
        #expect(doc.withClass("marker measured").count == 4)
        #expect(doc.withClass("marker uniform").count == 3)
        #expect(doc.withClass("marker uniform").allSatisfy { $0.name == "rect" })
        #expect(doc.withClass("marker greedy").count == 4)
        #expect(doc.withClass("marker greedy").allSatisfy { $0.name == "polygon" })
        #expect(doc.withClass("line predicted").first?.attributes["d"]?.contains("H") == true)
        #expect(doc.withClass("line greedy").first?.attributes["stroke-dasharray"] != nil)
        #expect(doc.withClass("chosen-ring").count == 1)
        #expect(doc.allText.contains("chosen: plan 5"))
        #expect(doc.withClass("axis-label x").first?.text == "average weight bits")
        #expect(doc.withClass("axis-label y").first?.text == "loss")
        #expect(doc.withClass("uniform-label").map(\.text).sorted() == ["W2A8 <&>", "W4A8", "W8A8"])
        #expect(svg.contains("W2A8 &lt;&amp;&gt;"))
        #expect(doc.withClass("reference").count == 1)
        #expect(doc.withClass("budget").count == 1)
        #expect(doc.withClass("legend").count == 1)
        #expect(!svg.contains("<script") && !svg.contains("@import") && !svg.contains("href"))
    }

    /// Measured proposals off the measured front are small hollow circles outside the measured line, with a legend entry.
    @Test func offFrontProposalsAreDrawnApart() throws {
        var curve = sampleCurve()
        let measured = curve.points.indices.filter { curve.points[$0].series == .measured }
        for i in measured { curve.points[i].onFront = true }
        var extra = curve.points[measured[1]]
        extra.label = "plan 3b"
        extra.measuredLoss = (extra.measuredLoss ?? 0) + 0.5
        extra.onFront = false
        extra.isChosen = false
        curve.points.append(extra)
        let doc = try #require(SVGCollector.parse(TradeOffChart(curve: curve).svg()))
        #expect(doc.withClass("marker measured").count == 4)
        #expect(doc.withClass("marker measured off-front").count == 1)
        let line = try #require(doc.withClass("line measured").first?.attributes["points"])
        #expect(line.split(separator: " ").count == 4)
        #expect(doc.allText.contains("other measured ILP proposals"))
        #expect(doc.allText.contains("ILP plans (measured front)"))
        // Without off-front points the legend is as before.
        let plain = try #require(SVGCollector.parse(TradeOffChart(curve: sampleCurve()).svg()))
        #expect(!plain.allText.contains("other measured ILP proposals"))
    }

    @Test func accuracyMetricPlotsOnlyPointsWithAccuracy() throws {
        let chart = TradeOffChart(curve: sampleCurve(), metric: .accuracy)
        let doc = try #require(SVGCollector.parse(chart.svg()))
        #expect(doc.withClass("marker uniform").count == 3)
        #expect(doc.withClass("marker predicted").isEmpty)
        #expect(doc.withClass("axis-label y").first?.text == "validation accuracy")
    }

    @Test func scaleMapsExtremesToPlotEdges() {
        let chart = TradeOffChart(curve: sampleCurve())
        let area = chart.plotArea
        let xs = chart.xScale(), ys = chart.yScale()
        // Uniform W2A8 is the cheapest point (2 bits), W8A8 and plan 8 the most expensive (8 bits).
        #expect(xs.domain.lo == 2 && xs.domain.hi == 8)
        #expect(abs(xs(8) - area.maxX) < 1e-9)
        #expect(abs(xs(2) - area.minX) < 1e-9)
        #expect(abs(ys(ys.domain.hi) - area.minY) < 1e-9)
        #expect(abs(ys(ys.domain.lo) - area.maxY) < 1e-9)
        #expect(ys.domain.hi == 2.9)
        // The frame leaves a gap so edge markers do not sit on the axes.
        #expect(area.maxX < chart.frame.maxX && area.minY > chart.frame.minY)
        // The drawn marker of the most expensive uniform point sits at the right edge.
        let svg = chart.svg()
        let doc = SVGCollector.parse(svg)!
        let w8 = doc.withClass("marker uniform").compactMap { e -> Double? in
            guard let x = Double(e.attributes["x"] ?? ""), let w = Double(e.attributes["width"] ?? "") else { return nil }
            return x + w / 2
        }.max()!
        #expect(abs(w8 - area.maxX) < 0.01)
    }

    @Test func niceTicks() {
        let t = TradeOffChart.niceTicks(2, 8, target: 7)
        #expect(t.step == 1 && t.ticks == [2, 3, 4, 5, 6, 7, 8])
        let u = TradeOffChart.niceTicks(0.013, 0.97)
        #expect(u.step == 0.2 && zip(u.ticks, [0.2, 0.4, 0.6, 0.8]).allSatisfy { abs($0 - $1) < 1e-12 } && u.ticks.count == 4)
        #expect(TradeOffChart.tickLabel(0.4, step: 0.2) == "0.4")
        #expect(TradeOffChart.tickLabel(2.5, step: 2.5) == "2.5")
        #expect(TradeOffChart.tickLabel(300, step: 100) == "300")
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5, 6])
    func degenerateInputsGiveValidSVG(_ which: Int) throws {
        let axis = TradeOffCurve.CostAxis.standard(for: .latency)
        var curve = TradeOffCurve(axis: axis)
        var metric = TradeOffChart.Metric.loss
        var size = (720.0, 440.0)
        switch which {
        case 0: break // no points at all
        case 1: curve.points = [.init(series: .predicted, label: "plan 1", cost: 3, predictedLoss: 0.2, isChosen: true)]
        case 2: curve.points = (0..<4).map { .init(series: .measured, label: "p\($0)", cost: 5, measuredLoss: Double($0)) }
        case 3: curve.points = [.init(series: .greedy, label: "g", cost: .nan, predictedLoss: 1),
                                .init(series: .uniform, label: "u", cost: 2, measuredLoss: .infinity),
                                .init(series: .predicted, label: "p", cost: 2, predictedLoss: nil),
                                .init(series: .predicted, label: "q", cost: 4, predictedLoss: 0.5)]
                curve.reference.loss = .nan
                curve.budget = .init(text: "nan", limit: .nan)
        case 4: curve.points = [.init(series: .uniform, label: "W8A8", cost: 0, measuredLoss: 0)]
                curve.reference.loss = 0
        case 5: metric = .accuracy
                curve.points = [.init(series: .predicted, label: "p", cost: 1, predictedLoss: 1)]
        default: size = (40, 30)
                 curve = sampleCurve()
        }
        let svg = TradeOffChart(curve: curve, metric: metric, width: size.0, height: size.1).svg()
        let doc = try #require(SVGCollector.parse(svg))
        #expect(!svg.lowercased().contains("nan\"") && !svg.contains("inf\""))
        let markers = doc.elements.filter { ($0.attributes["class"] ?? "").hasPrefix("marker ") }
        switch which {
        case 0, 5: #expect(markers.isEmpty && doc.withClass("empty").count == 1)
        case 1: #expect(markers.count == 1 && doc.withClass("chosen-ring").count == 1)
        case 2: #expect(markers.count == 4)
        case 3: #expect(markers.count == 1 && doc.withClass("reference").isEmpty && doc.withClass("budget").isEmpty)
        case 4: #expect(markers.count == 1)
        default: #expect(markers.count == 19)
        }
    }

    /// Writes the sample chart for `scripts/screenshot.sh` when MPQ_REPORT_SAMPLE_DIR is set.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MPQ_REPORT_SAMPLE_DIR"] != nil))
    func writeSample() throws {
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["MPQ_REPORT_SAMPLE_DIR"]!)
        let curve = sampleCurve(cheapestLabel: "W2A8")
        try TradeOffChart(curve: curve, title: "Trade-off: loss against average weight bits").svg()
            .write(to: dir.appendingPathComponent("tradeoff-loss.svg"), atomically: true, encoding: .utf8)
        try TradeOffChart(curve: curve, metric: .accuracy).svg()
            .write(to: dir.appendingPathComponent("tradeoff-accuracy.svg"), atomically: true, encoding: .utf8)
        try TradeOffChart(curve: TradeOffCurve(axis: .standard(for: .latency),
                                               points: [.init(series: .predicted, label: "plan 1", cost: 3, predictedLoss: 0.2, isChosen: true)]))
            .svg().write(to: dir.appendingPathComponent("tradeoff-single.svg"), atomically: true, encoding: .utf8)
    }
}

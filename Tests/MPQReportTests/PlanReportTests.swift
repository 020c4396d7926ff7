import Foundation
import Testing
@testable import MPQPlanner
@testable import MPQReport

/// A ResNet-18-like plan: 21 groups, 6 candidates, some not allowed (first and last layers stay at 8 bits).
func samplePlanReportData(firstGroupName: String = "conv1 <&> \"stem\"") -> PlanReportData {
    let candidates = ["W2A8", "W3A8", "W4A4", "W4A8", "W6A8", "W8A8"]
    let bits: [String: (Int, Int)] = ["W2A8": (2, 8), "W3A8": (3, 8), "W4A4": (4, 4), "W4A8": (4, 8), "W6A8": (6, 8), "W8A8": (8, 8)]
    var names = [firstGroupName]
    for stage in 1...4 {
        for block in 0...1 {
            names.append("layer\(stage).\(block).conv1")
            names.append("layer\(stage).\(block).conv2")
        }
        if stage > 1 { names.append("layer\(stage).0.downsample.0") }
    }
    names.append("fc")
    var groups: [PlanReportData.Group] = []
    var sens: [String: [String: Double?]] = [:]
    for (i, name) in names.enumerated() {
        let edge = i == 0 || name == "fc"
        let base = 0.002 * exp(Double((i * 7) % 11) / 3) * (edge ? 6 : 1)
        var row: [String: Double?] = [:]
        for c in candidates {
            let (w, a) = bits[c]!
            let v = base * pow(2, Double(8 - w)) * (a == 4 ? 3 : 1) - (c == "W8A8" ? base * 0.9 : 0)
            row[c] = edge && c != "W8A8" ? .some(nil) : .some(v)
        }
        sens[name] = row
        // The cheapest candidate whose increase stays under 0.1, as a planner might pick.
        let choice = edge ? "W8A8" : (["W2A8", "W3A8", "W4A8", "W6A8"].first { (row[$0] ?? nil).map { $0 < 0.1 } ?? false } ?? "W8A8")
        let params = name == "fc" ? 513_000 : (name.hasPrefix("conv1") ? 9408 : 36_864 * (1 << min(3, i / 5)) * 4)
        groups.append(.init(name: name, opTypes: name == "fc" ? ["Gemm"] : ["Conv", "Relu"], candidate: choice,
                            weightBits: bits[choice]!.0, activationBits: bits[choice]!.1, parameters: params,
                            macs: params * (name == "fc" ? 1 : 784 / (1 << min(3, i / 5))), sensitivity: row[choice] ?? nil))
    }
    // One long name to exercise truncation.
    groups[5].name = "backbone.encoder.stage2.block0.residual.conv_transpose_very_long_name"
    sens[groups[5].name] = sens[names[5]]
    sens[names[5]] = nil
    return PlanReportData(
        model: "resnet18.onnx", profile: "generic-int", lossName: "cross-entropy",
        budgets: ["avg-weight-bits<=4.5", "size<=6.5MB"],
        costs: [.init(kind: "average weight bits", value: "4.46 bits", budget: "4.5 bits", fraction: 4.46 / 4.5),
                .init(kind: "model size", value: "6.21 MB", budget: "6.5 MB", fraction: 6.21 / 6.5),
                .init(kind: "BOPs", value: "38.2 G")],
        fp32Loss: 1.1, predictedLoss: 1.19, measuredLoss: 1.23, groups: groups, candidates: candidates,
        sensitivities: sens,
        refinement: .init(lossBefore: 1.23, lossAfterBiasCorrection: 1.18, lossAfter: 1.145, evaluations: 412,
                          validationLossBefore: 1.26, validationLossAfter: 1.17,
                          validationAccuracyBefore: 0.731, validationAccuracyAfter: 0.752),
        tradeOff: sampleCurve(cheapestLabel: "W2A8"))
}

private func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

@Suite struct PlanReportTests {
    @Test func pageStructure() {
        let data = samplePlanReportData()
        let html = PlanReport(data: data).html()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(count("<html", in: html) == 1)
        #expect(count("</html>", in: html) == 1)
        for heading in PlanReport.sectionHeadings {
            #expect(html.contains("<h2>\(heading)</h2>"), "missing section \(heading)")
        }
        #expect(count("class=\"heat-cell\"", in: html) == data.groups.count * data.candidates.count)
        #expect(count("class=\"chosen-cell\"", in: html) == data.groups.count)
        // Edge groups allow only W8A8: 2 groups x 5 candidates are n/a.
        #expect(count("class=\"na\"", in: html) == 10)
        #expect(count("class=\"bar weight\"", in: html) == data.groups.count)
        #expect(count("class=\"bar activation\"", in: html) == data.groups.count)
        // The trade-off chart is embedded without its XML declaration.
        #expect(html.contains("marker predicted"))
        #expect(!html.contains("<?xml"))
    }

    @Test func textIsEscaped() {
        let html = PlanReport(data: samplePlanReportData(firstGroupName: "conv1 <&> x")).html()
        #expect(!html.contains("conv1 <&> x"))
        #expect(html.contains("conv1 &lt;&amp;&gt; x"))
        var data = samplePlanReportData()
        data.model = "<script>alert(1)</script>"
        let page = PlanReport(data: data).html()
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;"))
    }

    @Test func selfContained() {
        let html = PlanReport(data: samplePlanReportData()).html()
        let stripped = html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
        #expect(!stripped.lowercased().contains("http"))
        #expect(!html.contains("<link"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("src="))
    }

    @Test func optionalSectionsDegrade() {
        var data = samplePlanReportData()
        data.tradeOff = nil
        data.refinement = nil
        data.measuredLoss = nil
        let html = PlanReport(data: data).html()
        for heading in PlanReport.sectionHeadings { #expect(html.contains("<h2>\(heading)</h2>")) }
        #expect(html.contains("No trade-off sweep"))
        #expect(html.contains("not refined"))
        let empty = PlanReport(data: PlanReportData(model: "m", profile: "p", lossName: "mse", fp32Loss: 0.1, predictedLoss: 0.2)).html()
        #expect(count("class=\"heat-cell\"", in: empty) == 0)
        #expect(empty.contains("No sensitivities"))
    }

    /// The trade-off plot has a log loss axis, and a validation-accuracy panel exactly when points carry accuracies.
    @Test func tradeOffHasLogAxisAndAccuracyPanel() throws {
        var data = samplePlanReportData()
        let html = PlanReport(data: data).html()
        #expect(html.contains("log scale"))
        let hasAccuracy = data.tradeOff?.points.contains { $0.validationAccuracy != nil } ?? false
        #expect(html.contains("Validation accuracy") == hasAccuracy)
        for i in data.tradeOff?.points.indices ?? 0..<0 { data.tradeOff?.points[i].validationAccuracy = 0.5 + Double(i) / 100 }
        #expect(PlanReport(data: data).html().contains("<h3>Validation accuracy</h3>"))
        for i in data.tradeOff?.points.indices ?? 0..<0 { data.tradeOff?.points[i].validationAccuracy = nil }
        #expect(!PlanReport(data: data).html().contains("Validation accuracy"))
    }

    @Test func dataRoundTripsThroughJSON() throws {
        let data = samplePlanReportData()
        let decoded = try JSONDecoder().decode(PlanReportData.self, from: JSONEncoder().encode(data))
        #expect(decoded == data)
        #expect(decoded.sensitivities["fc"]?["W2A8"] == .some(nil))
    }

    @Test func truncation() {
        #expect(ReportFormat.truncate("short", to: 30) == "short")
        let t = ReportFormat.truncate("backbone.encoder.stage2.block0.residual.conv_transpose_very_long_name", to: 30)
        #expect(t.count == 30)
        #expect(t.hasPrefix("backbone.") && t.hasSuffix("long_name") && t.contains("…"))
    }

    /// Writes the sample report for `scripts/screenshot.sh (1100x3000)` when MPQ_REPORT_SAMPLE_DIR is set.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MPQ_REPORT_SAMPLE_DIR"] != nil))
    func writeSample() throws {
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["MPQ_REPORT_SAMPLE_DIR"]!)
        try PlanReport(data: samplePlanReportData()).html()
            .write(to: dir.appendingPathComponent("plan-report.html"), atomically: true, encoding: .utf8)
    }
}

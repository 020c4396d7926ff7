import Foundation

extension TradeOffCurve {
    /// The CSV header, in column order.
    public static let csvColumns = ["series", "label", "cost", "predicted_loss", "measured_loss", "validation_loss",
                                    "validation_accuracy", "candidates", "chosen", "on_front", "rank", "tie_broken", "selected"]

    /// One row per point after a header row (RFC 4180: CRLF line ends, fields with commas, quotes or line breaks
    /// quoted with doubled quotes). Numbers use Swift's shortest round-tripping form; missing values are empty;
    /// the candidate list is joined with ';'; `chosen` is `true` or `false`; `on_front`, `rank` (0: an ILP optimum),
    /// `tie_broken` and `selected` describe measured ILP proposals and are empty elsewhere. Costs are in `axis.label` units.
    public func csv() -> String {
        var rows = [Self.csvColumns.map(Self.csvField).joined(separator: ",")]
        for p in points {
            let fields: [String] = [
                p.series.rawValue, p.label, Self.csvNumber(p.cost), Self.csvNumber(p.predictedLoss),
                Self.csvNumber(p.measuredLoss), Self.csvNumber(p.validationLoss), Self.csvNumber(p.validationAccuracy),
                p.candidateNames?.joined(separator: ";") ?? "", p.isChosen ? "true" : "false",
                Self.csvBool(p.onFront), p.rank.map { "\($0)" } ?? "", Self.csvBool(p.tieBroken), Self.csvBool(p.selected),
            ]
            rows.append(fields.map(Self.csvField).joined(separator: ","))
        }
        return rows.map { $0 + "\r\n" }.joined()
    }

    /// A field quoted when it contains a comma, a double quote, CR or LF.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func csvBool(_ value: Bool?) -> String {
        value.map { $0 ? "true" : "false" } ?? ""
    }

    static func csvNumber(_ value: Double?) -> String {
        guard let value else { return "" }
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return "\(value)"
    }
}

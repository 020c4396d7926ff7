import Foundation

/// A minimal HTML writer: text is escaped on the way in; `raw` appends markup as is.
struct HTMLDocument {
    private(set) var parts: [String] = []

    /// Escapes `&`, `<`, `>`, `"` and `'` (the same rules as SVG, valid in HTML5 too).
    static func escape(_ text: String) -> String { SVGDocument.escape(text) }

    mutating func raw(_ markup: String) { parts.append(markup) }

    mutating func open(_ tag: String, _ attrs: [(String, String)] = []) {
        parts.append("<\(tag)\(SVGDocument.attributes(attrs))>")
    }

    mutating func close(_ tag: String) { parts.append("</\(tag)>") }

    /// `<tag attrs>escaped text</tag>`.
    mutating func element(_ tag: String, _ text: String, _ attrs: [(String, String)] = []) {
        parts.append("<\(tag)\(SVGDocument.attributes(attrs))>\(Self.escape(text))</\(tag)>")
    }

    /// A table with a header row; cells are escaped text.
    mutating func table(header: [String], rows: [[String]], cls: String? = nil, numericFrom: Int = 1) {
        open("table", cls.map { [("class", $0)] } ?? [])
        open("thead")
        open("tr")
        for (i, h) in header.enumerated() { element("th", h, i >= numericFrom ? [("class", "num")] : []) }
        close("tr")
        close("thead")
        open("tbody")
        for row in rows {
            open("tr")
            for (i, c) in row.enumerated() { element("td", c, i >= numericFrom ? [("class", "num")] : []) }
            close("tr")
        }
        close("tbody")
        close("table")
    }

    var text: String { parts.joined(separator: "\n") }

    /// An inline SVG from a standalone SVG document: the XML declaration is dropped.
    static func inlineSVG(_ svg: String) -> String {
        var s = Substring(svg)
        if s.hasPrefix("<?xml"), let end = s.range(of: "?>") {
            s = s[end.upperBound...]
        }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Number formatting shared by the report pieces.
enum ReportFormat {
    /// A loss or similar value ("1.1234", "0.0003125").
    static func value(_ v: Double?) -> String {
        guard let v else { return "—" }
        guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "∞" : "−∞") }
        return String(format: "%.4g", v)
    }

    /// A fraction as a percentage ("76.5%").
    static func percent(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "—" }
        return String(format: "%.1f%%", v * 100)
    }

    /// A count with an SI suffix ("11.7M", "1.82G", "512").
    static func count(_ n: Int) -> String {
        let v = Double(n)
        for (limit, suffix) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] where abs(v) >= limit {
            return String(format: "%.3g", v / limit) + suffix
        }
        return "\(n)"
    }

    /// A sensitivity in a heatmap cell ("3.2e-04", "0.012", "1.5").
    static func compact(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "NaN" : "∞" }
        if v == 0 { return "0" }
        if abs(v) < 0.001 || abs(v) >= 1000 { return String(format: "%.1e", v) }
        return String(format: "%.2g", v)
    }

    /// `name` shortened to at most `limit` characters by cutting its middle ("layer1.0.c…conv2").
    static func truncate(_ name: String, to limit: Int) -> String {
        guard name.count > limit, limit >= 5 else { return name }
        let tail = (limit - 1) / 2, head = limit - 1 - tail
        return String(name.prefix(head)) + "…" + String(name.suffix(tail))
    }
}

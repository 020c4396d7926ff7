import Foundation

/// A self-contained SVG heatmap of per-group sensitivities: groups are rows, candidates columns, the colour is
/// log10 of the loss increase. Candidates a group may not use are grey "n/a" cells; the chosen candidate of each
/// group is outlined. A colour legend shows the log10 range.
public struct SensitivityHeatmap: Sendable {
    public struct Row: Sendable, Equatable {
        public var name: String
        /// One value per candidate column; nil = not allowed.
        public var values: [Double?]
        /// Index of the chosen column, if any.
        public var chosen: Int?
        public init(name: String, values: [Double?], chosen: Int?) {
            self.name = name
            self.values = values
            self.chosen = chosen
        }
    }

    public var candidates: [String]
    public var rows: [Row]
    public var labelLimit: Int

    public init(candidates: [String], rows: [Row], labelLimit: Int = 30) {
        self.candidates = candidates
        self.rows = rows
        self.labelLimit = labelLimit
    }

    /// Builds the rows from report data (groups in order, columns in `data.candidates` order).
    public init(data: PlanReportData, labelLimit: Int = 30) {
        let rows = data.groups.map { g -> Row in
            let table = data.sensitivities[g.name] ?? [:]
            let values = data.candidates.map { c -> Double? in table[c] ?? nil }
            return Row(name: g.name, values: values, chosen: data.candidates.firstIndex(of: g.candidate))
        }
        self.init(candidates: data.candidates, rows: rows, labelLimit: labelLimit)
    }

    static let cellWidth = 66.0
    static let cellHeight = 22.0
    /// Increases at or below this (including zero and negative ones) share the lowest colour.
    static let floor = 1e-6

    var labelWidth: Double { Double(labelLimit) * 11 * 0.62 + 14 }
    var top: Double { 30 }
    var width: Double { max(labelWidth + Double(candidates.count) * Self.cellWidth + 20, labelWidth + 500) }
    var gridBottom: Double { top + Double(rows.count) * Self.cellHeight }
    var height: Double { gridBottom + 70 }

    /// The log10 range of the finite values (floored at `floor`).
    var logRange: (lo: Double, hi: Double) {
        let logs = rows.flatMap(\.values).compactMap { $0 }.filter(\.isFinite).map { log10(max($0, Self.floor)) }
        guard var lo = logs.min(), var hi = logs.max() else { return (-4, 0) }
        if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
        return (lo, hi)
    }

    /// Colour stops from light yellow (insensitive) to dark red (sensitive).
    static let stops: [(Double, Double, Double)] = [(255, 247, 188), (254, 196, 79), (236, 112, 20), (204, 76, 2), (102, 37, 6)]

    /// The colour at `t` in [0, 1], and whether text on it should be white.
    static func color(_ t: Double) -> (hex: String, dark: Bool) {
        let t = min(max(t.isFinite ? t : 1, 0), 1) * Double(stops.count - 1)
        let i = min(Int(t), stops.count - 2), f = t - Double(i)
        let a = stops[i], b = stops[i + 1]
        let r = a.0 + (b.0 - a.0) * f, g = a.1 + (b.1 - a.1) * f, bl = a.2 + (b.2 - a.2) * f
        let luminance = 0.299 * r + 0.587 * g + 0.114 * bl
        return (String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(bl.rounded())), luminance < 140)
    }

    func position(_ v: Double) -> Double {
        let (lo, hi) = logRange
        guard v.isFinite else { return 1 }
        return (log10(max(v, Self.floor)) - lo) / (hi - lo)
    }

    public func svg() -> String {
        var doc = SVGDocument(width: width, height: height)
        let x0 = labelWidth, cw = Self.cellWidth, ch = Self.cellHeight

        // Column headers.
        doc.open("g", [("class", "columns"), ("font-size", "11"), ("font-weight", "bold"), ("fill", "#222222")])
        for (j, c) in candidates.enumerated() {
            doc.text(ReportFormat.truncate(c, to: 10), x: x0 + (Double(j) + 0.5) * cw, y: top - 8, [("text-anchor", "middle")])
        }
        doc.close("g")

        // Cells.
        var outlines: [(Double, Double)] = []
        for (i, row) in rows.enumerated() {
            let y = top + Double(i) * ch
            doc.text(ReportFormat.truncate(row.name, to: labelLimit), x: x0 - 8, y: y + ch / 2 + 4,
                     [("text-anchor", "end"), ("font-size", "11"), ("fill", "#222222"), ("class", "heat-label")])
            for j in candidates.indices {
                let x = x0 + Double(j) * cw
                let value = j < row.values.count ? row.values[j] : nil
                doc.open("g", [("class", "heat-cell")])
                let tip = "\(row.name) · \(candidates[j]): " + (value.map { "loss increase \(ReportFormat.value($0))" } ?? "not allowed")
                doc.raw("<title>\(SVGDocument.escape(tip))</title>")
                if let value {
                    let c = Self.color(position(value))
                    doc.rect(x: x, y: y, width: cw, height: ch, [("fill", c.hex), ("stroke", "#ffffff"), ("stroke-width", "1")])
                    doc.text(ReportFormat.compact(value), x: x + cw / 2, y: y + ch / 2 + 4,
                             [("text-anchor", "middle"), ("font-size", "10"), ("fill", c.dark ? "#ffffff" : "#222222")])
                } else {
                    doc.rect(x: x, y: y, width: cw, height: ch, [("fill", "#eeeeee"), ("stroke", "#ffffff"), ("stroke-width", "1")])
                    doc.text("n/a", x: x + cw / 2, y: y + ch / 2 + 4,
                             [("text-anchor", "middle"), ("font-size", "10"), ("fill", "#999999"), ("class", "na")])
                }
                doc.close("g")
                if row.chosen == j { outlines.append((x, y)) }
            }
        }
        // Outlines last so neighbouring cells do not paint over them.
        for (x, y) in outlines {
            doc.rect(x: x + 1.5, y: y + 1.5, width: cw - 3, height: ch - 3,
                     [("fill", "none"), ("stroke", "#111111"), ("stroke-width", "2.5"), ("class", "chosen-cell")])
        }

        // Legend: a gradient bar of log10(loss increase), plus the n/a and chosen keys.
        let ly = gridBottom + 22, lw = 220.0, lx = x0
        let (lo, hi) = logRange
        doc.open("g", [("class", "heat-legend"), ("font-size", "11"), ("fill", "#333333")])
        doc.text("log10(loss increase)", x: lx, y: ly - 6)
        let steps = 44
        for k in 0..<steps {
            doc.rect(x: lx + Double(k) * lw / Double(steps), y: ly, width: lw / Double(steps) + 0.5, height: 12,
                     [("fill", Self.color(Double(k) / Double(steps - 1)).hex)])
        }
        doc.rect(x: lx, y: ly, width: lw, height: 12, [("fill", "none"), ("stroke", "#999999")])
        let ticks = Int(hi.rounded(.down)) - Int(lo.rounded(.up)) >= 1
            ? Array(stride(from: lo.rounded(.up), through: hi.rounded(.down), by: max(1, ((hi - lo) / 5).rounded(.up))))
            : [lo, hi]
        for t in ticks {
            let x = lx + (t - lo) / (hi - lo) * lw
            doc.line(x1: x, y1: ly + 12, x2: x, y2: ly + 16, [("stroke", "#666666")])
            doc.text(t == t.rounded() ? String(format: "%.0f", t) : String(format: "%.1f", t), x: x, y: ly + 27,
                     [("text-anchor", "middle")])
        }
        let kx = lx + lw + 30
        doc.rect(x: kx, y: ly, width: 26, height: 12, [("fill", "#eeeeee"), ("stroke", "#cccccc")])
        doc.text("n/a = not allowed", x: kx + 32, y: ly + 10)
        doc.rect(x: kx + 150, y: ly, width: 26, height: 12, [("fill", "none"), ("stroke", "#111111"), ("stroke-width", "2.5")])
        doc.text("chosen", x: kx + 182, y: ly + 10)
        doc.close("g")
        return doc.render(title: "Sensitivity per group and candidate")
    }
}

import Foundation

/// A self-contained SVG of the bit widths a plan gives each group: one row per group, a weight-bits bar and an
/// activation-bits bar. Long group names are shortened in the middle; the full name is the row's tooltip.
public struct BitWidthChart: Sendable {
    public struct Row: Sendable, Equatable {
        public var name: String
        public var weightBits: Int
        public var activationBits: Int
        public init(name: String, weightBits: Int, activationBits: Int) {
            self.name = name
            self.weightBits = weightBits
            self.activationBits = activationBits
        }
    }

    public var rows: [Row]
    public var width: Double
    /// Longest group label before it is shortened.
    public var labelLimit: Int

    public init(rows: [Row], width: Double = 760, labelLimit: Int = 30) {
        self.rows = rows
        self.width = width
        self.labelLimit = labelLimit
    }

    static let weightColor = "#1f77b4"
    static let activationColor = "#ff7f0e"
    static let rowHeight = 24.0
    static let barHeight = 9.0

    var labelWidth: Double { Double(labelLimit) * 11 * 0.62 + 14 }
    var top: Double { 34 }
    var height: Double { top + Double(max(rows.count, 1)) * Self.rowHeight + 30 }

    /// The x-axis maximum: the widest bit width rounded up to 8, 16 or 32.
    var maxBits: Int {
        let m = rows.map { max($0.weightBits, $0.activationBits) }.max() ?? 8
        return [8, 16, 32].first { $0 >= m } ?? m
    }

    public func svg() -> String {
        var doc = SVGDocument(width: width, height: height)
        let x0 = labelWidth, x1 = width - 40
        let scale = (x1 - x0) / Double(maxBits)
        let bottom = top + Double(max(rows.count, 1)) * Self.rowHeight

        // Legend.
        doc.open("g", [("class", "legend"), ("font-size", "12"), ("fill", "#333333")])
        doc.rect(x: x0, y: 8, width: 14, height: 10, [("fill", Self.weightColor)])
        doc.text("weight bits", x: x0 + 20, y: 17)
        doc.rect(x: x0 + 110, y: 8, width: 14, height: 10, [("fill", Self.activationColor)])
        doc.text("activation bits", x: x0 + 130, y: 17)
        doc.close("g")

        // Grid and ticks.
        let step = maxBits <= 8 ? 1 : (maxBits <= 16 ? 2 : 4)
        doc.open("g", [("class", "grid"), ("font-size", "11"), ("fill", "#555555")])
        for b in stride(from: 0, through: maxBits, by: step) {
            let x = x0 + Double(b) * scale
            doc.line(x1: x, y1: top - 4, x2: x, y2: bottom, [("stroke", b == 0 ? "#888888" : "#e6e6e6")])
            doc.text("\(b)", x: x, y: bottom + 15, [("text-anchor", "middle")])
        }
        doc.text("bits", x: (x0 + x1) / 2, y: bottom + 28, [("text-anchor", "middle")])
        doc.close("g")

        for (i, row) in rows.enumerated() {
            let y = top + Double(i) * Self.rowHeight
            doc.open("g", [("class", "bit-row")])
            doc.raw("<title>\(SVGDocument.escape("\(row.name): W\(row.weightBits) A\(row.activationBits)"))</title>")
            if i % 2 == 1 {
                doc.rect(x: 0, y: y, width: width, height: Self.rowHeight, [("fill", "#f6f8fa")])
            }
            doc.text(ReportFormat.truncate(row.name, to: labelLimit), x: x0 - 8, y: y + Self.rowHeight / 2 + 4,
                     [("text-anchor", "end"), ("font-size", "11"), ("fill", "#222222"), ("class", "bit-label")])
            for (k, (bits, color)) in [(row.weightBits, Self.weightColor), (row.activationBits, Self.activationColor)].enumerated() {
                let by = y + 3 + Double(k) * (Self.barHeight + 1)
                let w = max(0, Double(bits)) * scale
                doc.rect(x: x0, y: by, width: w, height: Self.barHeight,
                         [("fill", color), ("class", k == 0 ? "bar weight" : "bar activation")])
                doc.text("\(bits)", x: x0 + w + 4, y: by + Self.barHeight - 1, [("font-size", "9"), ("fill", "#333333")])
            }
            doc.close("g")
        }
        if rows.isEmpty {
            doc.text("no groups", x: (x0 + x1) / 2, y: top + 16, [("text-anchor", "middle"), ("fill", "#888888")])
        }
        return doc.render(title: "Bit widths per group")
    }
}

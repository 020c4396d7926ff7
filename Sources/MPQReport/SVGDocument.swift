import Foundation

/// A minimal SVG writer: elements are appended as text; attribute values and text content are XML-escaped.
struct SVGDocument {
    var width: Double
    var height: Double
    private(set) var body: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// Escapes `&`, `<`, `>`, `"` and `'`, and drops characters XML 1.0 does not allow.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || v == 0xFFFE || v == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A coordinate or length with two decimals and no trailing zeros ("12.5", "3", "-0.25").
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        var s = String(format: "%.2f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s == "-0" ? "0" : s
    }

    static func attributes(_ attrs: [(String, String)]) -> String {
        attrs.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }

    mutating func raw(_ text: String) { body.append(text) }

    mutating func element(_ name: String, _ attrs: [(String, String)]) {
        body.append("<\(name)\(Self.attributes(attrs))/>")
    }

    mutating func open(_ name: String, _ attrs: [(String, String)] = []) {
        body.append("<\(name)\(Self.attributes(attrs))>")
    }

    mutating func close(_ name: String) { body.append("</\(name)>") }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, _ attrs: [(String, String)] = []) {
        element("line", [("x1", Self.number(x1)), ("y1", Self.number(y1)), ("x2", Self.number(x2)),
                         ("y2", Self.number(y2))] + attrs)
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, _ attrs: [(String, String)] = []) {
        element("rect", [("x", Self.number(x)), ("y", Self.number(y)), ("width", Self.number(width)),
                         ("height", Self.number(height))] + attrs)
    }

    mutating func circle(cx: Double, cy: Double, r: Double, _ attrs: [(String, String)] = []) {
        element("circle", [("cx", Self.number(cx)), ("cy", Self.number(cy)), ("r", Self.number(r))] + attrs)
    }

    mutating func polygon(_ points: [(Double, Double)], _ attrs: [(String, String)] = []) {
        element("polygon", [("points", Self.pointList(points))] + attrs)
    }

    mutating func polyline(_ points: [(Double, Double)], _ attrs: [(String, String)] = []) {
        element("polyline", [("points", Self.pointList(points))] + attrs)
    }

    mutating func path(_ d: String, _ attrs: [(String, String)] = []) {
        element("path", [("d", d)] + attrs)
    }

    mutating func text(_ content: String, x: Double, y: Double, _ attrs: [(String, String)] = []) {
        body.append("<text\(Self.attributes([("x", Self.number(x)), ("y", Self.number(y))] + attrs))>\(Self.escape(content))</text>")
    }

    static func pointList(_ points: [(Double, Double)]) -> String {
        points.map { "\(number($0.0)),\(number($0.1))" }.joined(separator: " ")
    }

    /// The whole document with an XML declaration, a `viewBox` and `style` rules.
    func render(title: String? = nil, style: String = "") -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\">\n"
        if let title { out += "<title>\(Self.escape(title))</title>\n" }
        if !style.isEmpty { out += "<style>\n\(Self.escape(style))\n</style>\n" }
        for line in body { out += line + "\n" }
        out += "</svg>\n"
        return out
    }
}

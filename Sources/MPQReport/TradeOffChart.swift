import Foundation

/// A self-contained SVG of a `TradeOffCurve`: cost on x, loss (or accuracy) on y.
///
/// Predicted Pareto points are a step line with hollow circles, measured points a solid line with filled circles
/// (measured ILP proposals off the measured front, `onFront == false`, small hollow circles without a line),
/// uniform-precision points labelled squares, the greedy baseline triangles on a dashed line; the chosen plan is
/// ringed and annotated, the FP32 reference is a dashed horizontal line and the budget a dotted vertical one.
/// Points with a missing or non-finite cost or y value are skipped.
///
/// With `lossAxis` `.logarithmicIncrease` the loss metric is drawn as the increase over the FP32 loss on a log
/// scale, so nearly lossless plans (which a linear axis puts on one line with FP32) stay apart; increases at or
/// below a floor (zero, negative, or far below the smallest positive one) sit on the floor, drawn as the FP32 line.
public struct TradeOffChart: Sendable {
    public enum Metric: String, Sendable, Codable {
        case loss
        case accuracy
    }

    /// How the loss metric's y axis maps values.
    public enum LossAxis: String, Sendable, Codable {
        /// The loss itself, linearly.
        case linear
        /// The loss increase over the reference (FP32) loss, on a log-10 scale with a floor.
        case logarithmicIncrease
    }

    public var curve: TradeOffCurve
    public var metric: Metric
    public var width: Double
    public var height: Double
    public var title: String?
    /// Linear loss or log-scaled loss increase (ignored for the accuracy metric).
    public var lossAxis: LossAxis

    public init(curve: TradeOffCurve, metric: Metric = .loss, width: Double = 720, height: Double = 440,
                title: String? = nil, lossAxis: LossAxis = .linear) {
        self.curve = curve
        self.metric = metric
        self.width = width
        self.height = height
        self.title = title
        self.lossAxis = lossAxis
    }

    /// Whether y is the log-scaled loss increase.
    var isLogarithmic: Bool { metric == .loss && lossAxis == .logarithmicIncrease }

    // MARK: Geometry

    struct Rect: Equatable {
        var x: Double, y: Double, width: Double, height: Double
        var minX: Double { x }
        var maxX: Double { x + width }
        var minY: Double { y }
        var maxY: Double { y + height }
        func intersects(_ o: Rect) -> Bool {
            x < o.maxX && o.x < maxX && y < o.maxY && o.y < maxY
        }
        func contains(_ p: (Double, Double)) -> Bool { p.0 >= x && p.0 <= maxX && p.1 >= y && p.1 <= maxY }
        func inside(_ o: Rect) -> Bool { x >= o.x && maxX <= o.maxX && y >= o.y && maxY <= o.maxY }
    }

    /// Maps a data interval onto a pixel interval (the range may be reversed, as for y).
    struct LinearScale {
        var domain: (lo: Double, hi: Double)
        var range: (lo: Double, hi: Double)
        func callAsFunction(_ v: Double) -> Double {
            let span = domain.hi - domain.lo
            guard span != 0 else { return (range.lo + range.hi) / 2 }
            return range.lo + (v - domain.lo) / span * (range.hi - range.lo)
        }
    }

    static let markerRadius = 4.5
    /// Gap between the axes frame and the area the data maps onto, so edge markers do not sit on the axes.
    static let inset = 12.0

    var leftMargin: Double { 74 }
    var rightMargin: Double { 18 }
    var topMargin: Double { title == nil ? 16 : 38 }
    var bottomMargin: Double { 52 }

    /// The axes box.
    var frame: Rect {
        Rect(x: leftMargin, y: topMargin, width: max(1, width - leftMargin - rightMargin),
             height: max(1, height - topMargin - bottomMargin))
    }

    /// Where the data domain maps: the frame less `inset` on every side.
    var plotArea: Rect {
        let f = frame
        let i = min(Self.inset, f.width / 4, f.height / 4)
        return Rect(x: f.x + i, y: f.y + i, width: f.width - 2 * i, height: f.height - 2 * i)
    }

    /// A plotted point: the curve point with its y value on this chart's metric (log10 of the floored increase on a
    /// logarithmic axis) and the value annotations show.
    struct Plotted {
        var point: TradeOffCurve.Point
        var x: Double
        var y: Double
        var value: Double
    }

    /// The y value of `p` on this chart's metric, or nil when it has none.
    func yValue(_ p: TradeOffCurve.Point) -> Double? {
        switch metric {
        case .accuracy:
            return p.validationAccuracy
        case .loss:
            let offset = curve.predictedLossIsIncrease ? (curve.reference.loss.flatMap { $0.isFinite ? $0 : nil } ?? 0) : 0
            let predicted = p.predictedLoss.map { $0 + offset }
            switch p.series {
            case .predicted: return predicted
            case .measured: return p.measuredLoss ?? p.validationLoss
            case .uniform, .greedy: return p.measuredLoss ?? p.validationLoss ?? predicted
            }
        }
    }

    /// The points that can be drawn (finite cost and y), in data units.
    var plottedData: [Plotted] {
        let finite = curve.points.compactMap { p -> Plotted? in
            guard p.cost.isFinite, let y = yValue(p), y.isFinite else { return nil }
            return Plotted(point: p, x: p.cost, y: y, value: y)
        }
        guard isLogarithmic else { return finite }
        let reference = finiteReferenceLoss
        let floor = Self.logFloor(finite.map { $0.y - reference })
        return finite.map { p -> Plotted in
            let increase = p.y - reference
            return Plotted(point: p.point, x: p.x, y: log10(max(increase, floor)), value: increase)
        }
    }

    /// The FP32 loss increases are measured from (0 when unknown).
    var finiteReferenceLoss: Double { curve.reference.loss.flatMap { $0.isFinite ? $0 : nil } ?? 0 }

    /// The smallest increase a logarithmic axis shows: a third of the smallest positive one, but no more than 10⁸
    /// below the largest (so a numerically zero increase does not stretch the axis); 1e-6 when none is positive.
    static func logFloor(_ increases: [Double]) -> Double {
        let positive = increases.filter { $0 > 0 && $0.isFinite }
        guard let smallest = positive.min(), let largest = positive.max() else { return 1e-6 }
        return max(smallest / 3, largest * 1e-8)
    }

    /// On a logarithmic axis the FP32 line is the floor (no increase); otherwise the reference loss or accuracy.
    var referenceValue: Double? {
        if isLogarithmic {
            guard curve.reference.loss != nil else { return nil }
            let reference = finiteReferenceLoss
            return log10(Self.logFloor(curve.points.compactMap { p in yValue(p).map { $0 - reference } }))
        }
        let v = metric == .loss ? curve.reference.loss : curve.reference.accuracy
        return v.flatMap { $0.isFinite ? $0 : nil }
    }

    var budgetValue: Double? { curve.budget?.limit.flatMap { $0.isFinite ? $0 : nil } }

    /// The data interval covering `values`, widened when empty or degenerate.
    static func domain(_ values: [Double]) -> (lo: Double, hi: Double) {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return (0, 1) }
        if hi > lo { return (lo, hi) }
        let pad = lo == 0 ? 1 : abs(lo) * 0.1
        return (lo - pad, hi + pad)
    }

    func xScale() -> LinearScale {
        let data = plottedData
        let d = Self.domain(data.map(\.x) + (budgetValue.map { [$0] } ?? []))
        return LinearScale(domain: d, range: (plotArea.minX, plotArea.maxX))
    }

    func yScale() -> LinearScale {
        let data = plottedData
        let d = Self.domain(data.map(\.y) + (referenceValue.map { [$0] } ?? []))
        return LinearScale(domain: d, range: (plotArea.maxY, plotArea.minY))
    }

    /// About `target` round values (1, 2, 2.5 or 5 x 10^k apart) inside `[lo, hi]`, with the step.
    static func niceTicks(_ lo: Double, _ hi: Double, target: Int = 6) -> (ticks: [Double], step: Double) {
        guard lo.isFinite, hi.isFinite, hi > lo else { return ([lo], 1) }
        let rough = (hi - lo) / Double(max(1, target - 1))
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let eps = step * 1e-9
        var ticks: [Double] = []
        let first = (lo / step - 1e-9).rounded(.up)
        var k = 0.0
        while ticks.count < 100 {
            let v = (first + k) * step
            if v > hi + eps { break }
            ticks.append(abs(v) < eps ? 0 : v)
            k += 1
        }
        return (ticks, step)
    }

    /// Y ticks with their labels: round values, or on a logarithmic axis decades (or round values when the data
    /// spans less than two decades) labelled with the increase they stand for.
    func yTicks(_ domain: (lo: Double, hi: Double)) -> [(value: Double, label: String)] {
        guard isLogarithmic else {
            let t = Self.niceTicks(domain.lo, domain.hi)
            return t.ticks.map { ($0, Self.tickLabel($0, step: t.step)) }
        }
        let decades = Array(stride(from: domain.lo.rounded(.up), through: domain.hi, by: 1))
        if decades.count >= 2 {
            let step = Double(max(1, decades.count / 6))
            return decades.filter { ($0 - decades[0]).truncatingRemainder(dividingBy: step) == 0 }
                .map { ($0, String(format: "%g", pow(10, $0))) }
        }
        let t = Self.niceTicks(pow(10, domain.lo), pow(10, domain.hi))
        return t.ticks.filter { $0 > 0 }.map { (log10($0), String(format: "%.3g", $0)) }
    }

    /// A tick label with as many decimals as the step needs.
    static func tickLabel(_ v: Double, step: Double) -> String {
        let decimals = max(0, min(10, Int(-floor(log10(step) + 1e-9)) + (step / pow(10, floor(log10(step))) == 2.5 ? 1 : 0)))
        if abs(v) >= 1e6 || (abs(v) < 1e-4 && v != 0) { return String(format: "%.3g", v) }
        return String(format: "%.\(decimals)f", v)
    }

    /// A value in annotations ("4.5", "0.1234").
    static func short(_ v: Double) -> String { String(format: "%.4g", v) }

    // MARK: Styling

    static func color(_ s: TradeOffCurve.Series) -> String {
        switch s {
        case .predicted: return "#1f77b4"
        case .measured: return "#ff7f0e"
        case .uniform: return "#555555"
        case .greedy: return "#2ca02c"
        }
    }

    static func legendName(_ s: TradeOffCurve.Series) -> String {
        switch s {
        case .predicted: return "ILP plans (predicted)"
        case .measured: return "ILP plans (measured)"
        case .uniform: return "uniform precision"
        case .greedy: return "greedy baseline"
        }
    }

    /// The unit for annotations: the parenthesised part of the axis label, else its last word ("bits", "KB", "ms").
    var costUnit: String {
        let label = curve.axis.label
        if let open = label.lastIndex(of: "("), let close = label.lastIndex(of: ")"), open < close {
            return String(label[label.index(after: open)..<close])
        }
        return label.split(separator: " ").last.map(String.init) ?? ""
    }

    var yLabel: String {
        metric == .accuracy ? "validation accuracy" : isLogarithmic ? "loss increase over \(curve.reference.label) (log scale)" : "loss"
    }

    /// The reference line's label: on a logarithmic axis it is the floor, where increases too small to show sit.
    var referenceText: String {
        guard isLogarithmic, let floor = referenceValue else { return "\(curve.reference.label) \(Self.short(referenceValue ?? .nan))" }
        return "\(curve.reference.label) (increase ≤ \(Self.short(pow(10, floor))))"
    }

    /// Approximate width of `text` at `fontSize` (no font metrics in a self-contained file).
    static func textWidth(_ text: String, fontSize: Double) -> Double { Double(text.count) * fontSize * 0.56 }

    // MARK: Rendering

    /// The chart as an SVG document.
    public func svg() -> String {
        var doc = SVGDocument(width: width, height: height)
        let frame = self.frame, area = plotArea
        let data = plottedData
        let xs = xScale(), ys = yScale()
        func px(_ p: Plotted) -> (Double, Double) { (xs(p.x), ys(p.y)) }

        doc.rect(x: 0, y: 0, width: width, height: height, [("fill", "#ffffff")])
        if let title {
            doc.text(title, x: width / 2, y: 24, [("text-anchor", "middle"), ("font-size", "15"), ("font-weight", "bold"),
                                                  ("class", "title")])
        }

        // Grid, ticks and axis labels.
        let xt = Self.niceTicks(xs.domain.lo, xs.domain.hi, target: 7), yt = yTicks(ys.domain)
        doc.open("g", [("class", "grid"), ("stroke", "#e6e6e6"), ("stroke-width", "1")])
        for t in xt.ticks { doc.line(x1: xs(t), y1: frame.minY, x2: xs(t), y2: frame.maxY) }
        for t in yt { doc.line(x1: frame.minX, y1: ys(t.value), x2: frame.maxX, y2: ys(t.value)) }
        doc.close("g")
        doc.rect(x: frame.x, y: frame.y, width: frame.width, height: frame.height,
                 [("fill", "none"), ("stroke", "#444444"), ("stroke-width", "1"), ("class", "frame")])
        doc.open("g", [("class", "ticks"), ("font-size", "11"), ("fill", "#333333")])
        for t in xt.ticks {
            doc.line(x1: xs(t), y1: frame.maxY, x2: xs(t), y2: frame.maxY + 5, [("stroke", "#444444")])
            doc.text(Self.tickLabel(t, step: xt.step), x: xs(t), y: frame.maxY + 18, [("text-anchor", "middle")])
        }
        for t in yt {
            doc.line(x1: frame.minX - 5, y1: ys(t.value), x2: frame.minX, y2: ys(t.value), [("stroke", "#444444")])
            doc.text(t.label, x: frame.minX - 8, y: ys(t.value) + 4, [("text-anchor", "end")])
        }
        doc.close("g")
        doc.text(curve.axis.label, x: frame.x + frame.width / 2, y: height - 12,
                 [("text-anchor", "middle"), ("font-size", "13"), ("class", "axis-label x")])
        let yLabelX = 18.0, yLabelY = frame.y + frame.height / 2
        doc.text(yLabel, x: yLabelX, y: yLabelY,
                 [("text-anchor", "middle"), ("font-size", "13"), ("class", "axis-label y"),
                  ("transform", "rotate(-90 \(SVGDocument.number(yLabelX)) \(SVGDocument.number(yLabelY)))")])

        // Rectangles already taken by text, for placing labels.
        var taken: [Rect] = []
        let markerRects = data.map { p -> Rect in
            let (x, y) = px(p)
            return Rect(x: x - 6, y: y - 6, width: 12, height: 12)
        }

        func series(_ s: TradeOffCurve.Series) -> [Plotted] {
            data.filter { $0.point.series == s }.sorted { $0.x < $1.x }
        }
        let greedy = series(.greedy), predicted = series(.predicted), measured = series(.measured), uniform = series(.uniform)
        // Measured ILP proposals off the measured front (dominated by another measured plan) get no line.
        let measuredFront = measured.filter { $0.point.onFront != false }, measuredOff = measured.filter { $0.point.onFront == false }
        // Points sampled every few pixels along the drawn lines, so labels can avoid crossing them.
        var linePoints: [(Double, Double)] = []
        func sample(_ a: (Double, Double), _ b: (Double, Double)) {
            let n = max(1, Int((hypot(b.0 - a.0, b.1 - a.1) / 4).rounded(.up)))
            for i in 0...n { linePoints.append((a.0 + (b.0 - a.0) * Double(i) / Double(n), a.1 + (b.1 - a.1) * Double(i) / Double(n))) }
        }
        for s in [greedy, measuredFront] where s.count > 1 { for (a, b) in zip(s, s.dropFirst()) { sample(px(a), px(b)) } }
        for (a, b) in zip(predicted, predicted.dropFirst()) {
            let (pa, pb) = (px(a), px(b))
            sample(pa, (pb.0, pa.1))
            sample((pb.0, pa.1), pb)
        }
        func crossesLine(_ r: Rect) -> Bool { linePoints.contains { r.contains($0) } }

        // Reference and budget lines.
        if let ref = referenceValue {
            let y = ys(ref)
            doc.line(x1: frame.minX, y1: y, x2: frame.maxX, y2: y,
                     [("stroke", "#000000"), ("stroke-width", "1.2"), ("stroke-dasharray", "6 4"), ("class", "reference")])
            linePoints += stride(from: frame.minX, through: frame.maxX, by: 4).map { ($0, y) }
            let text = referenceText
            let w = Self.textWidth(text, fontSize: 11)
            // Above the line at the left end unless data is there; else below.
            var best = Rect(x: frame.minX + 4, y: y - 16, width: w, height: 13)
            for cand in [Rect(x: frame.minX + 4, y: y - 16, width: w, height: 13),
                         Rect(x: frame.minX + 4, y: y + 3, width: w, height: 13),
                         Rect(x: frame.maxX - 4 - w, y: y - 16, width: w, height: 13),
                         Rect(x: frame.maxX - 4 - w, y: y + 3, width: w, height: 13)]
            where cand.inside(frame) && !markerRects.contains(where: cand.intersects) { best = cand; break }
            taken.append(best)
            doc.text(text, x: best.x, y: best.maxY - 3, [("font-size", "11"), ("fill", "#000000"), ("class", "reference-label")])
        }
        if let budget = budgetValue, let text = curve.budget?.text {
            let x = xs(budget)
            doc.line(x1: x, y1: frame.minY, x2: x, y2: frame.maxY,
                     [("stroke", "#9467bd"), ("stroke-width", "1.2"), ("stroke-dasharray", "2 3"), ("class", "budget")])
            let label = "budget \(text)"
            let w = Self.textWidth(label, fontSize: 11)
            let candidates = [frame.minY + 3, frame.maxY - 16].flatMap { y in
                [Rect(x: x + 4, y: y, width: w, height: 13), Rect(x: x - 4 - w, y: y, width: w, height: 13)]
            }
            let r = candidates.first { c in
                c.inside(frame) && !taken.contains(where: c.intersects) && !markerRects.contains(where: c.intersects)
                    && !crossesLine(c)
            } ?? candidates.first { $0.inside(frame) } ?? candidates[0]
            taken.append(r)
            doc.text(label, x: r.x, y: r.maxY - 3, [("font-size", "11"), ("fill", "#9467bd"), ("class", "budget-label")])
        }


        // Lines.
        if greedy.count > 1 {
            doc.polyline(greedy.map(px), [("fill", "none"), ("stroke", Self.color(.greedy)), ("stroke-width", "1.5"),
                                          ("stroke-dasharray", "5 3"), ("class", "line greedy")])
        }
        if predicted.count > 1 {
            var d = ""
            for (i, p) in predicted.enumerated() {
                let (x, y) = px(p)
                d += i == 0 ? "M\(SVGDocument.number(x)) \(SVGDocument.number(y))"
                    : " H\(SVGDocument.number(x)) V\(SVGDocument.number(y))"
            }
            doc.path(d, [("fill", "none"), ("stroke", Self.color(.predicted)), ("stroke-width", "1.8"), ("class", "line predicted")])
        }
        if measuredFront.count > 1 {
            doc.polyline(measuredFront.map(px), [("fill", "none"), ("stroke", Self.color(.measured)), ("stroke-width", "1.8"),
                                            ("class", "line measured")])
        }

        // Markers.
        let r = Self.markerRadius
        doc.open("g", [("class", "markers")])
        for p in greedy {
            let (x, y) = px(p)
            doc.polygon([(x, y - r - 1), (x + r + 0.5, y + r * 0.8), (x - r - 0.5, y + r * 0.8)],
                        [("fill", Self.color(.greedy)), ("stroke", "#ffffff"), ("stroke-width", "0.8"),
                         ("class", "marker greedy")])
        }
        for p in uniform {
            let (x, y) = px(p)
            doc.rect(x: x - r, y: y - r, width: 2 * r, height: 2 * r,
                     [("fill", Self.color(.uniform)), ("stroke", "#ffffff"), ("stroke-width", "0.8"), ("class", "marker uniform")])
        }
        for p in predicted {
            let (x, y) = px(p)
            doc.circle(cx: x, cy: y, r: r, [("fill", "#ffffff"), ("stroke", Self.color(.predicted)), ("stroke-width", "1.8"),
                                            ("class", "marker predicted")])
        }
        for p in measuredOff {
            let (x, y) = px(p)
            doc.circle(cx: x, cy: y, r: r * 0.7, [("fill", "#ffffff"), ("stroke", Self.color(.measured)), ("stroke-width", "1.2"),
                                                  ("class", "marker measured off-front")])
        }
        for p in measuredFront {
            let (x, y) = px(p)
            doc.circle(cx: x, cy: y, r: r, [("fill", Self.color(.measured)), ("stroke", "#ffffff"), ("stroke-width", "0.8"),
                                            ("class", "marker measured")])
        }
        doc.close("g")

        // Legend: the frame corner covering the fewest markers and labels.
        var entries: [(kind: String, text: String)] = []
        for s in [TradeOffCurve.Series.predicted, .measured, .uniform, .greedy] where !series(s).isEmpty {
            entries.append((s.rawValue, s == .measured && !measuredOff.isEmpty ? "ILP plans (measured front)" : Self.legendName(s)))
            if s == .measured && !measuredOff.isEmpty { entries.append(("off-front", "other measured ILP proposals")) }
        }
        let chosen = [predicted, measured, uniform, greedy].joined().first { $0.point.isChosen }
        if chosen != nil { entries.append(("chosen", "chosen plan")) }
        if referenceValue != nil { entries.append(("reference", curve.reference.label)) }
        if budgetValue != nil, curve.budget != nil { entries.append(("budget", "budget")) }
        var legendRect: Rect?
        if !entries.isEmpty {
            let rowHeight = 16.0
            let w = 40 + (entries.map { Self.textWidth($0.text, fontSize: 11) }.max() ?? 0) + 8
            let h = rowHeight * Double(entries.count) + 8
            let corners = [
                Rect(x: frame.maxX - 6 - w, y: frame.minY + 6, width: w, height: h),
                Rect(x: frame.maxX - 6 - w, y: frame.maxY - 6 - h, width: w, height: h),
                Rect(x: frame.minX + 6, y: frame.minY + 6, width: w, height: h),
                Rect(x: frame.minX + 6, y: frame.maxY - 6 - h, width: w, height: h),
            ]
            let preferred = metric == .loss ? [0, 1, 2, 3] : [1, 0, 3, 2]
            let box = preferred.map { corners[$0] }.min { a, b in
                let ca = markerRects.filter(a.intersects).count * 10 + taken.filter(a.intersects).count
                let cb = markerRects.filter(b.intersects).count * 10 + taken.filter(b.intersects).count
                return ca < cb
            }!
            legendRect = box
            taken.append(box)
            doc.open("g", [("class", "legend"), ("font-size", "11")])
            doc.rect(x: box.x, y: box.y, width: box.width, height: box.height,
                     [("fill", "#ffffff"), ("fill-opacity", "0.9"), ("stroke", "#bbbbbb"), ("rx", "3")])
            for (i, e) in entries.enumerated() {
                let cy = box.y + 4 + rowHeight * (Double(i) + 0.5)
                let x0 = box.x + 6, x1 = box.x + 32, xm = (x0 + x1) / 2
                switch e.kind {
                case "predicted":
                    doc.path("M\(SVGDocument.number(x0)) \(SVGDocument.number(cy - 4)) H\(SVGDocument.number(xm)) V\(SVGDocument.number(cy + 4)) H\(SVGDocument.number(x1))",
                             [("fill", "none"), ("stroke", Self.color(.predicted)), ("stroke-width", "1.8")])
                    doc.circle(cx: xm, cy: cy, r: r, [("fill", "#ffffff"), ("stroke", Self.color(.predicted)), ("stroke-width", "1.8")])
                case "measured":
                    doc.line(x1: x0, y1: cy, x2: x1, y2: cy, [("stroke", Self.color(.measured)), ("stroke-width", "1.8")])
                    doc.circle(cx: xm, cy: cy, r: r, [("fill", Self.color(.measured)), ("stroke", "#ffffff"), ("stroke-width", "0.8")])
                case "off-front":
                    doc.circle(cx: xm, cy: cy, r: r * 0.7, [("fill", "#ffffff"), ("stroke", Self.color(.measured)), ("stroke-width", "1.2")])
                case "uniform":
                    doc.rect(x: xm - r, y: cy - r, width: 2 * r, height: 2 * r, [("fill", Self.color(.uniform))])
                case "greedy":
                    doc.line(x1: x0, y1: cy, x2: x1, y2: cy, [("stroke", Self.color(.greedy)), ("stroke-width", "1.5"),
                                                              ("stroke-dasharray", "5 3")])
                    doc.polygon([(xm, cy - r - 1), (xm + r + 0.5, cy + r * 0.8), (xm - r - 0.5, cy + r * 0.8)],
                                [("fill", Self.color(.greedy))])
                case "chosen":
                    doc.circle(cx: xm, cy: cy, r: 7, [("fill", "none"), ("stroke", "#d62728"), ("stroke-width", "2")])
                case "reference":
                    doc.line(x1: x0, y1: cy, x2: x1, y2: cy, [("stroke", "#000000"), ("stroke-width", "1.2"), ("stroke-dasharray", "6 4")])
                default:
                    doc.line(x1: x0, y1: cy, x2: x1, y2: cy, [("stroke", "#9467bd"), ("stroke-width", "1.2"), ("stroke-dasharray", "2 3")])
                }
                doc.text(e.text, x: box.x + 40, y: cy + 4, [("fill", "#222222")])
            }
            doc.close("g")
        }

        // Uniform labels: the first free spot around each square.
        doc.open("g", [("class", "uniform-labels"), ("font-size", "11"), ("fill", "#444444")])
        for p in uniform {
            let (x, y) = px(p)
            let w = Self.textWidth(p.point.label, fontSize: 11), h = 13.0
            let candidates = [Rect(x: x + 7, y: y - 7 - h, width: w, height: h), Rect(x: x + 7, y: y + 5, width: w, height: h),
                              Rect(x: x - 7 - w, y: y - 7 - h, width: w, height: h), Rect(x: x - 7 - w, y: y + 5, width: w, height: h),
                              Rect(x: x - w / 2, y: y - 9 - h, width: w, height: h), Rect(x: x - w / 2, y: y + 8, width: w, height: h)]
            let own = Rect(x: x - 6, y: y - 6, width: 12, height: 12)
            let free = candidates.first { c in
                c.inside(frame) && !taken.contains(where: c.intersects)
                    && !markerRects.contains(where: { $0 != own && c.intersects($0) }) && !crossesLine(c)
            } ?? candidates.first { c in
                c.inside(frame) && !taken.contains(where: c.intersects)
                    && !markerRects.contains(where: { $0 != own && c.intersects($0) })
            } ?? candidates.first { $0.inside(frame) } ?? candidates[0]
            taken.append(free)
            doc.text(p.point.label, x: free.x, y: free.maxY - 3, [("class", "uniform-label")])
        }
        doc.close("g")

        // The chosen plan: ring and annotation with a leader line.
        if let chosen {
            let (x, y) = px(chosen)
            doc.circle(cx: x, cy: y, r: 9, [("fill", "none"), ("stroke", "#d62728"), ("stroke-width", "2"), ("class", "chosen-ring")])
            let line1 = "chosen: \(chosen.point.label)"
            let metricName = metric == .loss ? (chosen.point.series == .predicted ? "predicted loss" : "loss") : "accuracy"
            let value = isLogarithmic ? "+\(Self.short(chosen.value))" : Self.short(chosen.value)
            let line2 = "\(Self.short(chosen.x)) \(costUnit) · \(metricName) \(value)"
            let w = max(Self.textWidth(line1, fontSize: 12), Self.textWidth(line2, fontSize: 11)) + 4, h = 30.0
            var candidates: [Rect] = []
            for (dx, dy) in [(24.0, -48.0), (24.0, 18.0), (-24.0, -48.0), (-24.0, 18.0), (40.0, -15.0), (-40.0, -15.0),
                             (24.0, -80.0), (24.0, 50.0), (-24.0, -80.0), (-24.0, 50.0)] {
                candidates.append(Rect(x: dx > 0 ? x + dx : x + dx - w, y: y + dy, width: w, height: h))
            }
            let free = candidates.first { c in
                c.inside(frame) && !taken.contains(where: c.intersects) && !markerRects.contains(where: c.intersects)
                    && !crossesLine(c)
            } ?? candidates.first { c in
                c.inside(frame) && !taken.contains(where: c.intersects) && !markerRects.contains(where: c.intersects)
            } ?? candidates.first { $0.inside(frame) && !(legendRect?.intersects($0) ?? false) }
                ?? candidates.first { $0.inside(frame) } ?? candidates[0]
            taken.append(free)
            let anchorX = free.x > x ? free.x : free.maxX
            let anchorY = min(max(y, free.y + 4), free.maxY - 4)
            doc.line(x1: x + (anchorX > x ? 9 : -9) * 0.7, y1: y + (anchorY > y ? 9 : -9) * 0.7, x2: anchorX, y2: anchorY,
                     [("stroke", "#d62728"), ("stroke-width", "1")])
            doc.open("g", [("class", "chosen-label"), ("fill", "#d62728")])
            doc.rect(x: free.x - 2, y: free.y, width: free.width + 2, height: free.height,
                     [("fill", "#ffffff"), ("fill-opacity", "0.85"), ("stroke", "none")])
            doc.text(line1, x: free.x + 2, y: free.y + 12, [("font-size", "12"), ("font-weight", "bold")])
            doc.text(line2, x: free.x + 2, y: free.y + 26, [("font-size", "11")])
            doc.close("g")
        }

        if data.isEmpty {
            doc.text("no data to plot", x: area.x + area.width / 2, y: area.y + area.height / 2,
                     [("text-anchor", "middle"), ("font-size", "14"), ("fill", "#888888"), ("class", "empty")])
        }

        let docTitle = title ?? "\(yLabel) against \(curve.axis.label)"
        return doc.render(title: docTitle, style: "text { font-family: sans-serif; }")
    }
}

import Foundation

/// One set of points on a chart.
public struct Series: Sendable {
    public enum Style: Sendable {
        /// Points joined in order.
        case line
        /// A staircase: each value holds until the next point (a running best).
        case step
        /// Unconnected dots of the given radius.
        case dots(Double)
    }
    public var points: [(x: Double, y: Double)]
    public var color: String
    public var style: Style
    public var dashed = false
    public var strokeWidth = 1.5
    public var opacity = 1.0
    /// Marks the element for styles and tests (`class="..."`).
    public var cssClass: String
    /// Shown by the browser when the pointer rests on the series.
    public var title: String?
    /// Extra attributes, e.g. `data-trial`.
    public var data: [(String, String)] = []

    public init(points: [(x: Double, y: Double)], color: String, style: Style = .line, dashed: Bool = false,
                strokeWidth: Double = 1.5, opacity: Double = 1, cssClass: String, title: String? = nil, data: [(String, String)] = []) {
        self.points = points
        self.color = color
        self.style = style
        self.dashed = dashed
        self.strokeWidth = strokeWidth
        self.opacity = opacity
        self.cssClass = cssClass
        self.title = title
        self.data = data
    }
}

/// An entry of a chart's legend.
public struct LegendEntry: Sendable {
    public var label: String
    public var color: String
    public var dashed: Bool
    public init(_ label: String, color: String, dashed: Bool = false) {
        self.label = label
        self.color = color
        self.dashed = dashed
    }
}

/// A line/step/dot chart with labelled axes, grid lines, ticks and a legend,
/// rendered to inline SVG.
public struct Chart: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xKind: Scale.Kind = .linear
    public var yKind: Scale.Kind = .linear
    public var series: [Series] = []
    public var legend: [LegendEntry] = []
    public var width = 900.0
    public var height = 380.0
    /// Room at the right for the legend (when there is one).
    public var legendWidth = 170.0
    public var includeZeroX = false
    public var includeZeroY = false
    /// Tick values for the x axis (default: round numbers).
    public var xTicks: [Double]?
    /// Fixed domains override the ones fitted to the data.
    public var xDomain: (Double, Double)?
    public var yDomain: (Double, Double)?
    /// Marks the `<svg>` for styles and tests.
    public var cssClass: String

    public init(title: String, xLabel: String, yLabel: String, cssClass: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.cssClass = cssClass
    }

    /// The plotting area inside the margins.
    var frame: (left: Double, top: Double, right: Double, bottom: Double) {
        (70, 34, width - (legend.isEmpty ? 20 : legendWidth), height - 48)
    }

    public func scales() -> (x: Scale, y: Scale) {
        let f = frame
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        let x = xDomain.map { Scale(kind: xKind, domain: $0, range: (f.left, f.right)) }
            ?? Scale(kind: xKind, covering: xs, range: (f.left, f.right), includeZero: includeZeroX)
        let y = yDomain.map { Scale(kind: yKind, domain: $0, range: (f.bottom, f.top)) }
            ?? Scale(kind: yKind, covering: ys, range: (f.bottom, f.top), includeZero: includeZeroY)
        return (x, y)
    }

    public func svg() -> String {
        var c = SVGCanvas(width: width, height: height)
        let f = frame
        let (x, y) = scales()
        c.text(f.left, 20, title, [("class", "chart-title"), ("font-size", "15"), ("font-weight", "600")])
        // Grid and ticks.
        for t in xTicks ?? x.ticks() {
            let px = x(t)
            c.line(px, f.top, px, f.bottom, [("stroke", "#e5e5e5")])
            c.text(px, f.bottom + 16, NumberFormat.short(t), [("class", "tick x-tick"), ("text-anchor", "middle"), ("font-size", "11")])
        }
        for t in y.ticks() {
            let py = y(t)
            c.line(f.left, py, f.right, py, [("stroke", "#e5e5e5")])
            c.text(f.left - 6, py + 4, NumberFormat.short(t), [("class", "tick y-tick"), ("text-anchor", "end"), ("font-size", "11")])
        }
        c.rect(f.left, f.top, f.right - f.left, f.bottom - f.top, [("fill", "none"), ("stroke", "#333")])
        c.text((f.left + f.right) / 2, height - 10, xLabel, [("class", "axis-label"), ("text-anchor", "middle"), ("font-size", "12")])
        c.text(16, (f.top + f.bottom) / 2, yLabel, [("class", "axis-label"), ("text-anchor", "middle"), ("font-size", "12"),
                                                   ("transform", "rotate(-90 16 \(SVGCanvas.n((f.top + f.bottom) / 2)))")])
        // Series, clipped to the frame.
        let clip = "clip-\(cssClass)"
        c.raw("<defs><clipPath id=\"\(escapeXML(clip))\"><rect x=\"\(SVGCanvas.n(f.left))\" y=\"\(SVGCanvas.n(f.top))\" width=\"\(SVGCanvas.n(f.right - f.left))\" height=\"\(SVGCanvas.n(f.bottom - f.top))\"/></clipPath></defs>")
        c.raw("<g clip-path=\"url(#\(escapeXML(clip)))\">")
        for s in series {
            var attrs: [(String, String)] = [("class", s.cssClass)] + s.data
            if s.opacity < 1 { attrs.append(("opacity", String(format: "%.2f", s.opacity))) }
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite && (xKind == .linear || $0.x > 0) && (yKind == .linear || $0.y > 0) }
            switch s.style {
            case let .dots(r):
                for p in pts { c.circle(x(p.x), y(p.y), r, attrs + [("fill", s.color)], title: s.title) }
            case .line, .step:
                guard !pts.isEmpty else { continue }
                var line: [(Double, Double)] = []
                for (i, p) in pts.enumerated() {
                    if case .step = s.style, i > 0 { line.append((x(p.x), y(pts[i - 1].y))) }
                    line.append((x(p.x), y(p.y)))
                }
                if case .step = s.style, let last = pts.last { line.append((f.right, y(last.y))) }
                attrs += [("stroke", s.color), ("stroke-width", SVGCanvas.n(s.strokeWidth))]
                if s.dashed { attrs.append(("stroke-dasharray", "6 4")) }
                if line.count == 1 { c.circle(line[0].0, line[0].1, 2.5, [("class", s.cssClass), ("fill", s.color)], title: s.title) }
                else { c.polyline(line, attrs, title: s.title) }
            }
        }
        c.raw("</g>")
        // Legend.
        for (i, e) in legend.enumerated() {
            let ly = f.top + 8 + Double(i) * 18
            var attrs: [(String, String)] = [("stroke", e.color), ("stroke-width", "3")]
            if e.dashed { attrs.append(("stroke-dasharray", "6 4")) }
            c.line(f.right + 8, ly, f.right + 26, ly, attrs)
            c.text(f.right + 31, ly + 4, e.label, [("class", "legend"), ("font-size", legendWidth < 150 ? "10" : "12")])
        }
        return c.render(label: title, cssClass: "chart " + cssClass)
    }
}

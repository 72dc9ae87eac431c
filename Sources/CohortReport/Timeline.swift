import Foundation

/// A Gantt chart: one row per worker, one bar per job from its start to its
/// answer; the gaps are idle time.
public struct TimelineChart: Sendable {
    public struct Bar: Sendable {
        public var start: Double
        public var end: Double
        public var color: String
        public var cssClass: String
        public var title: String
        public init(start: Double, end: Double, color: String, cssClass: String, title: String) {
            self.start = start
            self.end = end
            self.color = color
            self.cssClass = cssClass
            self.title = title
        }
    }
    public struct Row: Sendable {
        public var label: String
        public var bars: [Bar]
        /// Shown at the right end of the row (e.g. the busy fraction).
        public var note: String
        public init(label: String, bars: [Bar], note: String) {
            self.label = label
            self.bars = bars
            self.note = note
        }
    }

    public var title: String
    public var xLabel: String
    public var rows: [Row]
    public var duration: Double
    public var legend: [LegendEntry] = []
    public var width = 900.0
    public var cssClass = "timeline"

    public init(title: String, xLabel: String, rows: [Row], duration: Double) {
        self.title = title
        self.xLabel = xLabel
        self.rows = rows
        self.duration = duration
    }

    var rowHeight: Double { rows.count > 32 ? 9 : 16 }

    public func svg() -> String {
        let left = 70.0, top = legend.isEmpty ? 34.0 : 52.0, right = width - 170
        let height = top + rowHeight * Double(rows.count) + 48
        var c = SVGCanvas(width: width, height: height)
        let bottom = top + rowHeight * Double(rows.count)
        let x = Scale(kind: .linear, domain: (0, Swift.max(duration, 1e-9)), range: (left, right))
        c.text(left, 20, title, [("class", "chart-title"), ("font-size", "15"), ("font-weight", "600")])
        for t in x.ticks() {
            c.line(x(t), top, x(t), bottom, [("stroke", "#e5e5e5")])
            c.text(x(t), bottom + 16, NumberFormat.short(t), [("class", "tick x-tick"), ("text-anchor", "middle"), ("font-size", "11")])
        }
        c.text((left + right) / 2, height - 10, xLabel, [("class", "axis-label"), ("text-anchor", "middle"), ("font-size", "12")])
        for (i, row) in rows.enumerated() {
            let y = top + rowHeight * Double(i)
            // Idle is the pale background; jobs are drawn over it.
            c.rect(left, y + 1, right - left, rowHeight - 2, [("class", "idle"), ("fill", "#f1f1f1")])
            c.text(left - 6, y + rowHeight - 3, row.label, [("class", "row-label"), ("text-anchor", "end"), ("font-size", rows.count > 32 ? "8" : "11")])
            // A hairline between jobs keeps back-to-back jobs of one rung apart.
            let edge: [(String, String)] = rows.count <= 32 ? [("stroke", "#ffffff"), ("stroke-width", "0.5")] : []
            for b in row.bars {
                c.rect(x(b.start), y + 1, Swift.max(0.6, x(b.end) - x(b.start)), rowHeight - 2,
                       [("class", b.cssClass), ("fill", b.color)] + edge, title: b.title)
            }
            c.text(right + 8, y + rowHeight - 3, row.note, [("class", "row-note"), ("font-size", rows.count > 32 ? "8" : "11")])
        }
        c.rect(left, top, right - left, bottom - top, [("fill", "none"), ("stroke", "#333")])
        // The legend runs in a line between the title and the rows.
        for (i, e) in legend.enumerated() {
            let lx = left + Double(i) * 110
            c.rect(lx, 30, 14, 10, [("fill", e.color)])
            c.text(lx + 18, 39, e.label, [("class", "legend"), ("font-size", "11")])
        }
        return c.render(label: title, cssClass: "chart " + cssClass)
    }
}

import Foundation

/// Escapes text for HTML and SVG content and attribute values.
public func escapeXML(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}

/// An inline `<svg>` element built up from shapes; coordinates are pixels with the
/// origin at the top left. Numbers are written with one decimal: plenty for a
/// screen and it keeps reports with thousands of curves small.
public struct SVGCanvas {
    public let width: Double
    public let height: Double
    private(set) var body: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    static func n(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }

    private static func attributes(_ a: [(String, String)]) -> String {
        a.map { " \($0.0)=\"\(escapeXML($0.1))\"" }.joined()
    }

    public mutating func raw(_ s: String) { body.append(s) }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ attrs: [(String, String)] = []) {
        body.append("<line x1=\"\(Self.n(x1))\" y1=\"\(Self.n(y1))\" x2=\"\(Self.n(x2))\" y2=\"\(Self.n(y2))\"\(Self.attributes(attrs))/>")
    }

    public mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ attrs: [(String, String)] = [], title: String? = nil) {
        let open = "<rect x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" width=\"\(Self.n(Swift.max(0, w)))\" height=\"\(Self.n(Swift.max(0, h)))\"\(Self.attributes(attrs))"
        body.append(title.map { open + "><title>\(escapeXML($0))</title></rect>" } ?? open + "/>")
    }

    public mutating func circle(_ x: Double, _ y: Double, _ r: Double, _ attrs: [(String, String)] = [], title: String? = nil) {
        let open = "<circle cx=\"\(Self.n(x))\" cy=\"\(Self.n(y))\" r=\"\(Self.n(r))\"\(Self.attributes(attrs))"
        body.append(title.map { open + "><title>\(escapeXML($0))</title></circle>" } ?? open + "/>")
    }

    public mutating func polyline(_ points: [(Double, Double)], _ attrs: [(String, String)] = [], title: String? = nil) {
        let p = points.map { "\(Self.n($0.0)),\(Self.n($0.1))" }.joined(separator: " ")
        let open = "<polyline points=\"\(p)\" fill=\"none\"\(Self.attributes(attrs))"
        body.append(title.map { open + "><title>\(escapeXML($0))</title></polyline>" } ?? open + "/>")
    }

    public mutating func text(_ x: Double, _ y: Double, _ s: String, _ attrs: [(String, String)] = []) {
        body.append("<text x=\"\(Self.n(x))\" y=\"\(Self.n(y))\"\(Self.attributes(attrs))>\(escapeXML(s))</text>")
    }

    /// The whole element; `label` becomes its accessible name and `cssClass` lets
    /// tests and styles find it.
    public func render(label: String, cssClass: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"\(escapeXML(cssClass))\" role=\"img\" aria-label=\"\(escapeXML(label))\" "
            + "width=\"\(Self.n(width))\" height=\"\(Self.n(height))\" viewBox=\"0 0 \(Self.n(width)) \(Self.n(height))\">\n"
            + body.joined(separator: "\n") + "\n</svg>"
    }
}

/// Colours that stay distinguishable for readers with the common colour-vision
/// deficiencies (the Okabe-Ito set), in the order rungs and series use them.
public enum Palette {
    public static let colors = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000"]

    public static func color(_ i: Int) -> String { colors[((i % colors.count) + colors.count) % colors.count] }

    /// Rung k's colour: low rungs pale grey-blue, the top rung strongest, so the
    /// configurations that got furthest stand out.
    public static func rung(_ k: Int, of count: Int) -> String {
        let ramp = ["#9aa7b8", "#56B4E9", "#009E73", "#E69F00", "#D55E00", "#CC79A7", "#0072B2", "#000000"]
        if count <= 1 { return ramp[4] }
        return ramp[Swift.min(k, ramp.count - 1)]
    }

    public static let failed = "#888888"
    public static let lost = "#d62728"
}

import Foundation

/// A self-contained HTML report: inline CSS and inline SVG, no scripts, no
/// network, so it opens the same from a cluster's scratch directory, a mail
/// attachment or a browser with no connection.
public struct HTMLPage: Sendable {
    public var title: String
    /// One line under the title.
    public var subtitle: String
    /// The kind of run this page describes (`data-kind` on `<body>`).
    public var kind: String
    private(set) var parts: [String] = []

    public init(title: String, subtitle: String = "", kind: String) {
        self.title = title
        self.subtitle = subtitle
        self.kind = kind
    }

    public mutating func heading(_ text: String) { parts.append("<h2>\(escapeXML(text))</h2>") }

    public mutating func paragraph(_ text: String, cssClass: String? = nil) {
        parts.append("<p\(cssClass.map { " class=\"\(escapeXML($0))\"" } ?? "")>\(escapeXML(text))</p>")
    }

    /// A definition list of facts: "scheduler: asha", ...
    public mutating func facts(_ pairs: [(String, String)], cssClass: String = "facts") {
        let items = pairs.map { "<dt>\(escapeXML($0.0))</dt><dd>\(escapeXML($0.1))</dd>" }.joined()
        parts.append("<dl class=\"\(escapeXML(cssClass))\">\(items)</dl>")
    }

    public mutating func table(header: [String], rows: [[String]], cssClass: String) {
        var s = "<table class=\"\(escapeXML(cssClass))\"><thead><tr>"
        s += header.map { "<th>\(escapeXML($0))</th>" }.joined()
        s += "</tr></thead><tbody>"
        for r in rows {
            s += "<tr>" + r.map { cell in
                let numeric = Double(cell.filter { !"x%s".contains($0) }) != nil
                return "<td\(numeric ? " class=\"num\"" : "")>\(escapeXML(cell))</td>"
            }.joined() + "</tr>"
        }
        s += "</tbody></table>"
        parts.append(s)
    }

    /// Markup built elsewhere in this module (already escaped).
    mutating func appendRaw(_ html: String) { parts.append(html) }

    /// An SVG figure with a caption.
    public mutating func figure(_ svg: String, caption: String) {
        parts.append("<figure>\(svg)<figcaption>\(escapeXML(caption))</figcaption></figure>")
    }

    public var html: String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(escapeXML(title))</title>
        <style>
        body { font-family: -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px 32px; color: #1a1a1a; max-width: 1000px; }
        h1 { font-size: 22px; margin: 0 0 4px; }
        h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        .subtitle { color: #555; margin: 0 0 16px; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; font-size: 14px; }
        dl.facts dt { color: #555; }
        dl.facts dd { margin: 0; }
        table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
        th, td { padding: 3px 10px; border-bottom: 1px solid #e5e5e5; text-align: left; }
        th { background: #f6f6f6; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        figure { margin: 12px 0 20px; }
        figcaption { font-size: 12px; color: #555; max-width: 880px; }
        svg text { font-family: inherit; fill: #1a1a1a; }
        .note { font-size: 13px; color: #555; }
        .figure-row { display: flex; flex-wrap: wrap; gap: 4px 12px; }
        </style>
        </head>
        <body data-kind="\(escapeXML(kind))">
        <h1>\(escapeXML(title))</h1>
        <p class="subtitle">\(escapeXML(subtitle))</p>
        \(parts.joined(separator: "\n"))
        </body>
        </html>

        """
    }
}

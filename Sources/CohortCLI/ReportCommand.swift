import ArgumentParser
import CohortCluster
import CohortReport
import Foundation

/// `cohort report PATH`: a self-contained HTML page of a run or a scaling table.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML report (inline SVG plots, no network) of a run directory or a scaling CSV.",
        discussion: """
        PATH is a tuning run directory (real or simulated), a federated run directory
        (cohort fed), a NAS run directory (cohort nas search), an XD comparison (cohort
        xd), a meta-learning run or a folder of them (cohort meta: accuracy against
        budget), an ORCA run (cohort orca), a scaling CSV written by scripts/scaling.sh,
        or a directory of such CSVs. The page goes to PATH/report.html for a directory
        and NAME.html next to a CSV, unless --out.
        """)

    @Argument(help: "A tune, fed, NAS, XD, meta or ORCA run directory, a folder of meta runs, a scaling CSV, or a directory of scaling CSVs.")
    var path: String

    @Option(help: "Where to write the HTML file.")
    var out: String?

    func run() throws {
        let rendered: (kind: String, html: String)
        do { rendered = try ReportRegistry.standard.render(path: path) } catch { throw ReportInputError(message: "\(error)") }
        let url = out.map { URL(fileURLWithPath: $0) } ?? ReportRegistry.defaultOutput(for: path)
        do {
            try Data(rendered.html.utf8).write(to: url, options: .atomic)
        } catch {
            throw ReportInputError(message: "cannot write \(url.path): \(error.localizedDescription)")
        }
        print("\(rendered.kind) report: \(url.path)")
    }
}

/// A report that cannot be made: one line, exit status 2.
struct ReportInputError: UniformError {
    var message: String
    var description: String { message }
}

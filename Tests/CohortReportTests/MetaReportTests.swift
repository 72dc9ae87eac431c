import CohortFiles
import XCTest
@testable import CohortReport

final class MetaReportTests: XCTestCase {
    func summary(_ learner: String, budget: String, accuracy: Double) -> String {
        #"{"learner":"\#(learner)","selection":"uniform","budget":\#(budget),"tasks":null,"steps":10,"results":[{"name":"5-way 1-shot","selection":"uniform","ways":5,"shots":1,"episodes":600,"accuracy":\#(accuracy),"interval":0.01}]}"#
    }

    func testOneRunAndAFolderOfRunsAgainstTheBudget() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meta-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ text: String) throws {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try write("a/config.yaml", "name: a\ndata: {type: omniglot}\n")
        try write("a/events.jsonl", #"{"event":"step","step":5,"query_loss":1.2,"query_accuracy":0.5}"# + "\n")
        let run = try ReportInput(path: dir.appendingPathComponent("a").path)
        XCTAssertEqual(try ReportRegistry.standard.renderer(for: run).kind, "meta")
        XCTAssertTrue(try MetaReport().render(run).html.contains("No summary.json yet"))

        try write("a/summary.json", summary("protonets", budget: "1000", accuracy: 0.625))
        try write("b/summary.json", summary("protonets", budget: "\"all\"", accuracy: 0.95))
        try write("c/summary.json", summary("fomaml", budget: "1000", accuracy: 0.5))
        let folder = try ReportInput(path: dir.path)
        XCTAssertEqual(try ReportRegistry.standard.renderer(for: folder).kind, "meta")
        let html = try MetaReport().render(folder).html
        XCTAssertEqual(html.components(separatedBy: "class=\"meta-mean\"").count - 1, 2, "one line per learner")
        XCTAssertEqual(html.components(separatedBy: "class=\"meta-band\"").count - 1, 4, "two band edges per learner")
        XCTAssertTrue(html.contains(#"<td>b</td><td>protonets</td><td>uniform</td><td>all</td>"#), html)
        XCTAssertTrue(html.contains(#"0.6250"#))
    }
}

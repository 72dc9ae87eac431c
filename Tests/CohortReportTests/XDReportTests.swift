import XCTest
@testable import CohortReport

/// The report of an XD comparison, from files written the way `cohort xd` writes them.
final class XDReportTests: XCTestCase {
    func testCurvesAndTableFromTheJournalAndSummary() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xd-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ text: String) throws { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        try write("config.yaml", "name: xd-small\ntask: {type: burgers, train: 8, test: 4, grid: 64, resolution: 32}\ntraining: {epochs: 2}\n")
        var lines: [String] = []
        for (m, model) in ["backbone", "xd", "fno"].enumerated() {
            for e in 1...2 {
                lines.append(#"{"event":"epoch","model":"\#(model)","epoch":\#(e),"train_loss":\#(1.0 / Double(e + m)),"test":\#(0.5 / Double(e + m)),"seconds":1.5}"#)
            }
        }
        try write("events.jsonl", lines.joined(separator: "\n") + "\n")
        let input = try ReportInput(path: dir.path)
        let renderer = try ReportRegistry.standard.renderer(for: input)
        XCTAssertEqual(renderer.kind, "xd")
        let running = try renderer.render(input).html
        XCTAssertTrue(running.contains("No summary.json yet"))
        XCTAssertEqual(running.components(separatedBy: "class=\"model-test\"").count - 1, 3, "one test curve per model")

        try write("summary.json", #"{"task":"burgers","metric":"relative_l2","seed":1,"ranks":2,"epochs":2,"results":{"backbone":0.25,"xd":0.1667,"fno":0.125},"parameters":{"backbone":{"weights":10,"architecture":0},"xd":{"weights":10,"architecture":96},"fno":{"weights":12,"architecture":0}}}"#)
        try write("timing.json", #"{"ranks":2,"seconds_per_epoch":{"backbone":1.5,"xd":4.25,"fno":1.0}}"#)
        let done = try renderer.render(input).html
        XCTAssertFalse(done.contains("No summary.json yet"))
        XCTAssertTrue(done.contains(#"<td>xd</td><td class="num">0.1667</td><td class="num">10</td><td class="num">96</td><td class="num">4.25</td>"#), done)
    }
}

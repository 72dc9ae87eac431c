import Foundation
import XCTest
@testable import CohortReport

final class ORCAReportTests: XCTestCase {
    func testAlignmentAndTaskCurvesAndTheTable() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orca-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ text: String) throws { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        try write("config.yaml", "name: orca-small\ntask: {type: tabular, dataset: wine}\nalignment: {epochs: 2}\ntraining: {epochs: 2}\n")
        var lines: [String] = []
        for variant in ["scratch", "finetune", "orca"] {
            lines.append(#"{"event":"distance","variant":"\#(variant)","mmd":2.5}"#)
            if variant == "orca" {
                for e in 1...2 { lines.append(#"{"event":"align","variant":"orca","epoch":\#(e),"mmd":2.0,"distance":\#(2.5 - Double(e)),"seconds":0.1}"#) }
            }
            for e in 1...2 { lines.append(#"{"event":"epoch","variant":"\#(variant)","epoch":\#(e),"train_loss":0.5,"test":0.9,"seconds":1.5}"#) }
        }
        try write("events.jsonl", lines.joined(separator: "\n") + "\n")
        let input = try ReportInput(path: dir.path)
        let renderer = try ReportRegistry.standard.renderer(for: input)
        XCTAssertEqual(renderer.kind, "orca")
        let running = try renderer.render(input).html
        XCTAssertTrue(running.contains("No summary.json yet"))
        XCTAssertEqual(running.components(separatedBy: "class=\"variant-test\"").count - 1, 3, "one test curve per variant")
        XCTAssertEqual(running.components(separatedBy: "class=\"variant-align\"").count - 1, 3, "one distance curve per variant")

        try write("summary.json", #"{"task":"wine","metric":"accuracy","seed":1,"ranks":2,"results":{"scratch":0.9,"finetune":0.9,"orca":0.95},"alignment":{"scratch":{"initial_mmd":2.5,"final_mmd":2.5},"finetune":{"initial_mmd":2.5,"final_mmd":2.5},"orca":{"initial_mmd":2.5,"final_mmd":0.5}}}"#)
        try write("timing.json", #"{"ranks":2,"seconds":{"scratch":{"align":0,"train":3},"finetune":{"align":0,"train":3},"orca":{"align":0.2,"train":3.5}}}"#)
        let done = try renderer.render(input).html
        XCTAssertFalse(done.contains("No summary.json yet"))
        XCTAssertTrue(done.contains(#"<td>orca</td><td class="num">0.9500</td><td class="num">2.50000</td><td class="num">0.50000</td><td class="num">0.2</td><td class="num">3.5</td>"#), done)
    }
}

import XCTest
@testable import CohortFiles

/// Documents that would exhaust the parser's stack or expand without bound are one
/// readable error, not a crash or a stall.
final class ConfigDocumentTests: XCTestCase {
    private func message(_ text: String) -> String {
        do {
            _ = try ConfigDocument.parse(text, source: "c.yaml")
            return "parsed"
        } catch { return "\(error)" }
    }

    func testBracketsNestedPastTheLimitAreRefusedBeforeParsing() {
        let deep = String(repeating: "{a: ", count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        XCTAssertEqual(message("seed: \(deep)\n"), "c.yaml: is nested too deeply (more than 64 levels of brackets)")
        let fine = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertEqual(message("x: \(fine)\n"), "parsed")
        // Brackets inside quotes and comments do not count.
        XCTAssertEqual(message("x: '\(String(repeating: "[", count: 100))'  # \(String(repeating: "{", count: 100))\n"), "parsed")
    }

    func testIndentationPastTheLimitIsRefused() {
        let lines = (0..<300).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")
        XCTAssertEqual(message(lines + " 1\n"), "c.yaml: is nested too deeply (a line indented more than 256 spaces)")
    }

    func testAnAliasBombIsRefusedByItsExpandedSize() {
        var text = "a: &a [x, x, x, x, x, x, x, x, x]\n"
        for (name, previous) in zip(["b", "c", "d", "e", "f", "g"], ["a", "b", "c", "d", "e", "f"]) {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]\n"
        }
        XCTAssertTrue(message(text).hasSuffix("expands to more than 100000 values (aliases repeated within aliases?)"), message(text))
    }
}

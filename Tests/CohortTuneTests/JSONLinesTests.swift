import CohortFiles
import XCTest
@testable import CohortTune

/// The one reader of every journal and log: complete lines parsed with their numbers,
/// blank lines skipped, a torn last line dropped, a bad line named.
final class JSONLinesTests: XCTestCase {
    func testCompleteLinesAreParsedAndATornLastLineIsDropped() throws {
        let text = "{\"a\":1}\n\n{\"b\":[2,3]}\n{\"c\":"
        let contents = try JSONLines.parse(Data(text.utf8))
        XCTAssertEqual(contents.lines.map(\.number), [1, 3])
        XCTAssertEqual(contents.values.map(\.description), [#"{"a":1}"#, #"{"b":[2,3]}"#])
        XCTAssertEqual(contents.validLength, text.utf8.count - "{\"c\":".utf8.count)
        XCTAssertTrue(contents.droppedTornLine)

        let whole = try JSONLines.parse(Data("{\"a\":1}\n".utf8))
        XCTAssertFalse(whole.droppedTornLine)
        XCTAssertEqual(whole.validLength, 8)
        XCTAssertTrue(try JSONLines.parse(Data()).lines.isEmpty)
    }

    func testABadCompleteLineIsNamedByItsNumber() {
        XCTAssertThrowsError(try JSONLines.parse(Data("{\"a\":1}\nnot json\n{\"b\":2}\n".utf8))) { error in
            guard let bad = error as? JSONLines.BadLine else { return XCTFail("\(error)") }
            XCTAssertEqual(bad.line, 2)
            XCTAssertTrue(bad.description.hasPrefix("line 2 is not JSON ("), bad.description)
        }
    }
}

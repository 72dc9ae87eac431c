import XCTest
@testable import CohortORCA

/// BERT's basic tokenization and greedy longest-match WordPiece on a small vocabulary.
final class WordPieceTokenizerTests: XCTestCase {
    static let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", ",", "world", "!", "un", "##aff", "##able", "a", "##b", "cafe", "$", "的"]

    func testBasicTokensLowercaseStripAccentsAndSplitPunctuation() throws {
        let t = try WordPieceTokenizer(vocabulary: Self.vocabulary)
        XCTAssertEqual(t.basicTokens("  Héllo,\tWORLD!\n"), ["hello", ",", "world", "!"])
        XCTAssertEqual(t.basicTokens("Café$5 don't"), ["cafe", "$", "5", "don", "'", "t"])
        XCTAssertEqual(t.basicTokens("a的b"), ["a", "的", "b"])
        XCTAssertEqual(t.basicTokens("x\u{0007}y"), ["xy"])
    }

    func testGreedyLongestMatchPieces() throws {
        let t = try WordPieceTokenizer(vocabulary: Self.vocabulary)
        XCTAssertEqual(t.wordPieces("unaffable"), [8, 9, 10])
        XCTAssertEqual(t.wordPieces("ab"), [11, 12])
        XCTAssertEqual(t.wordPieces("abx"), [1], "a word with no complete split is [UNK]")
        XCTAssertEqual(t.wordPieces(String(repeating: "a", count: 101)), [1])
        XCTAssertEqual(t.encode("Hello, unaffable world!"), [2, 4, 5, 8, 9, 10, 6, 7, 3])
        XCTAssertEqual(t.encode(""), [2, 3])
    }

    func testAVocabularyWithoutSpecialTokensIsRefused() {
        XCTAssertThrowsError(try WordPieceTokenizer(vocabulary: ["[PAD]", "[UNK]", "[CLS]", "hello"], source: "v.txt")) { e in
            XCTAssertEqual("\(e)", "v.txt: not a BERT vocabulary (no [SEP] token)")
        }
    }
}

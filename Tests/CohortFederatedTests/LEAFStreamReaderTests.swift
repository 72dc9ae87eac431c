import XCTest
@testable import CohortFederated

/// The streaming LEAF reader: values split across read chunks, every form of number
/// (fast path and strtod), escapes, keys it skips, and syntax errors by byte.
final class LEAFStreamReaderTests: XCTestCase {
    let numbers = ["0", "-0.5", "1e-3", "2.5E+2", "3.4028234e38", "1.17549435e-38", "0.1", "123456.789",
                   "12345678901234567890", "0.1234567890123456789", "7e22", "7e-23", "-0.000001234",
                   "1.0000000000000000000000000000000000000000000000000000000000000000001"]

    private func users(_ json: String, chunk: Int) throws -> [String: LEAFFormat.UserSamples] {
        let dir = try makeTemporaryDirectory(self)
        let doc = try LEAFStreamReader.read(path: try writeFile(dir, "data.json", json), chunk: chunk)
        var out: [String: LEAFFormat.UserSamples] = [:]
        for (id, entry) in doc.userData ?? [:] {
            guard case let .samples(s) = entry else { XCTFail("\(id): \(entry)"); continue }
            out[id] = s
        }
        return out
    }

    func testEveryChunkSizeReadsTheSameValuesAsDoubleParsing() throws {
        let x = "[" + numbers.map { "[\($0), \($0)]" }.joined(separator: ", ") + "]"
        let y = "[" + numbers.indices.map(String.init).joined(separator: ",") + "]"
        let json = """
        {"hierarchies": [{"a": [1, {"b": null}]}, true, false, "x\\"y"],
         "users": ["al\\u00efce", "\\ud83d\\ude00"], "num_samples": [\(numbers.count), 1],
         "user_data": {"al\\u00efce": {"x": \(x), "y": \(y), "extra": {"z": [1, 2]}},
                       "\\ud83d\\ude00": {"y": [1], "x": [[[1], [2]]]}}}
        """
        let expected = numbers.flatMap { [Float(Double($0)!), Float(Double($0)!)] }
        for chunk in [1, 3, 7, 64, 4 << 20] {
            let read = try users(json, chunk: chunk)
            XCTAssertEqual(read["alïce"]?.features, expected, "chunk \(chunk)")
            XCTAssertEqual(read["alïce"]?.labels, numbers.indices.map(Int32.init))
            XCTAssertEqual(read["alïce"]?.sampleShape, [2])
            XCTAssertEqual(read["😀"]?.sampleShape, [2, 1])
            XCTAssertEqual(read["😀"]?.features, [1, 2])
        }
    }

    private func syntaxError(_ json: String) throws -> String {
        let dir = try makeTemporaryDirectory(self)
        let path = try writeFile(dir, "bad.json", json)
        return federatedErrorMessage({ try LEAFStreamReader.read(path: path, chunk: 5) })
    }

    private func assertSyntax(_ json: String, _ expected: String, line: UInt = #line) throws {
        let message = try syntaxError(json)
        XCTAssertTrue(message.contains(expected), message, line: line)
    }

    func testSyntaxErrorsNameTheByte() throws {
        try assertSyntax(#"{"users": ["a"] "user_data": {}}"#, "expected ',' or '}' at byte 16")
        try assertSyntax(#"{"users": []} x"#, "text after the end of the document at byte 14")
        try assertSyntax(#"{"users": [1e]}"#, "invalid number")
        try assertSyntax(#"{"users": [+1]}"#, "invalid number")
        try assertSyntax(#"{"users": [01x]}"#, "expected ',' or ']'")
        try assertSyntax(#"{"users": ["a\q"]}"#, "invalid escape in a string")
        try assertSyntax(#"{"users": ["\ud800"]}"#, "unpaired surrogate")
        try assertSyntax(#"{"users": [nul"#, "invalid literal")
        try assertSyntax(#"{"users": ["a"#, "unterminated string")
        try assertSyntax(#"{"users": ["#, "unexpected end of the file at byte 11")
        try assertSyntax("", "unexpected end of the file at byte 0")
    }
}

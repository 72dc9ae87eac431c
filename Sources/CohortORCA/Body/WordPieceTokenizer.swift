import Foundation

/// BERT's uncased tokenizer: basic tokenization, then greedy longest-match WordPiece.
///
/// Basic tokenization: control characters dropped, whitespace normalised, CJK ideographs
/// split apart, text lowercased and accents stripped (NFD, combining marks removed),
/// then every punctuation character made a token of its own. WordPiece then splits each
/// word into the longest vocabulary prefix and continuation pieces written `##...`; a
/// word with no split (or longer than 100 characters) becomes `[UNK]`.
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: [String]
    private let ids: [String: Int32]
    public let unknown: Int32, classification: Int32, separator: Int32, padding: Int32
    static let maxWordCharacters = 100

    /// Reads `vocab.txt`: one token per line, its id the line number.
    public init(vocabularyPath path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ORCAInputError("\(path): cannot read the vocabulary") }
        guard let text = String(data: data, encoding: .utf8) else { throw ORCAInputError("\(path): the vocabulary is not UTF-8 text") }
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        try self.init(vocabulary: lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }, source: path)
    }

    public init(vocabulary: [String], source: String = "vocabulary") throws {
        var ids: [String: Int32] = [:]
        for (i, token) in vocabulary.enumerated() where ids[token] == nil { ids[token] = Int32(i) }
        func special(_ token: String) throws -> Int32 {
            guard let id = ids[token] else { throw ORCAInputError("\(source): not a BERT vocabulary (no \(token) token)") }
            return id
        }
        self.vocabulary = vocabulary
        self.ids = ids
        unknown = try special("[UNK]")
        classification = try special("[CLS]")
        separator = try special("[SEP]")
        padding = try special("[PAD]")
    }

    public func id(_ token: String) -> Int32? { ids[token] }

    /// `[CLS] pieces… [SEP]`, as the model saw sentences in training.
    public func encode(_ text: String) -> [Int32] {
        [classification] + basicTokens(text).flatMap(wordPieces) + [separator]
    }

    /// The words and punctuation marks of `text`, lowercased and without accents.
    public func basicTokens(_ text: String) -> [String] {
        var cleaned = ""
        for scalar in text.unicodeScalars {
            if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
            if Self.isWhitespace(scalar) { cleaned.append(" "); continue }
            if Self.isCJK(scalar) { cleaned += " \(Character(scalar)) "; continue }
            cleaned.unicodeScalars.append(scalar)
        }
        var tokens: [String] = []
        for word in cleaned.split(separator: " ") {
            let folded = String(word).lowercased().decomposedStringWithCanonicalMapping
            var current = ""
            for scalar in folded.unicodeScalars {
                if scalar.properties.generalCategory == .nonspacingMark { continue }
                if Self.isPunctuation(scalar) {
                    if !current.isEmpty { tokens.append(current); current = "" }
                    tokens.append(String(Character(scalar)))
                } else {
                    current.unicodeScalars.append(scalar)
                }
            }
            if !current.isEmpty { tokens.append(current) }
        }
        return tokens
    }

    /// Greedy longest-match-first pieces of one word.
    public func wordPieces(_ word: String) -> [Int32] {
        let characters = Array(word.unicodeScalars)
        if characters.count > Self.maxWordCharacters { return [unknown] }
        var pieces: [Int32] = []
        var start = 0
        while start < characters.count {
            var end = characters.count
            var found: Int32?
            while start < end {
                var piece = String(String.UnicodeScalarView(characters[start..<end]))
                if start > 0 { piece = "##" + piece }
                if let id = ids[piece] { found = id; break }
                end -= 1
            }
            guard let found else { return [unknown] }
            pieces.append(found)
            start = end
        }
        return pieces
    }

    // MARK: Character classes, as BERT defines them

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.generalCategory == .spaceSeparator
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format: return true
        default: return false
        }
    }

    /// ASCII symbols count as punctuation too ("$", "^", "`"), as in BERT.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        return (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }
}

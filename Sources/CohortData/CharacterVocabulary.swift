/// A fixed, ordered set of characters: character `k` of `characters` is class and input
/// index `k` of a character model. Text is encoded by Unicode scalar.
///
/// `leaf` is the 80-character alphabet of LEAF's Shakespeare benchmark (newline, space,
/// punctuation, digits, both cases of the Latin letters, and `}`), so data written with
/// it reads the same in other LEAF tools.
public struct CharacterVocabulary: Sendable, Equatable {
    public let characters: [Unicode.Scalar]
    private let index: [Unicode.Scalar: Int32]

    /// A vocabulary of the distinct scalars of `text`, in the order given.
    public init(_ text: String) throws {
        var seen: [Unicode.Scalar: Int32] = [:], list: [Unicode.Scalar] = []
        for s in text.unicodeScalars {
            guard seen[s] == nil else {
                throw DatasetError.invalidArgument("vocabulary lists character \(Self.show(s)) twice")
            }
            seen[s] = Int32(list.count)
            list.append(s)
        }
        guard list.count >= 2 else {
            throw DatasetError.invalidArgument("a vocabulary needs at least 2 characters, got \(list.count)")
        }
        characters = list
        index = seen
    }

    /// LEAF's Shakespeare alphabet.
    public static let leaf = try! CharacterVocabulary(
        "\n !\"&'(),-.0123456789:;>?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz}")

    /// A vocabulary named in a config: `leaf`, or the characters themselves.
    public static func named(_ text: String) throws -> CharacterVocabulary {
        text == "leaf" ? .leaf : try CharacterVocabulary(text)
    }

    public var count: Int { characters.count }

    /// The index of `scalar`, or nil if the vocabulary lacks it.
    public func index(of scalar: Unicode.Scalar) -> Int32? { index[scalar] }

    /// The indices of every scalar of `text`; the first one outside the vocabulary is an
    /// error that names it and its position (`what` says whose text it is).
    public func encode(_ text: String, what: String) throws -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(text.unicodeScalars.count)
        for (position, s) in text.unicodeScalars.enumerated() {
            guard let k = index[s] else {
                throw DatasetError.invalidArgument("\(what): character \(Self.show(s)) at position \(position) is not in the vocabulary")
            }
            out.append(k)
        }
        return out
    }

    /// Keeps the scalars of `text` the vocabulary has and replaces the others by
    /// `replacement` (itself in the vocabulary).
    public func restricting(_ text: String, replacement: Unicode.Scalar = " ") -> String {
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars { out.append(index[s] == nil ? replacement : s) }
        return String(out)
    }

    /// A character as a message shows it: printable ones quoted, others by code point.
    public static func show(_ s: Unicode.Scalar) -> String {
        s.properties.isWhitespace || s.value < 0x20 ? "U+" + String(s.value, radix: 16, uppercase: true) : "'\(s)'"
    }
}

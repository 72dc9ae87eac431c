import CohortData
import Foundation

/// Reads one LEAF JSON file in a single pass, a few megabytes at a time, straight into
/// each user's flat float and label buffers: no tree of the whole document, so memory
/// stays near the size of the numbers themselves (a generic JSON tree of a 430 MB file
/// took over 5 GB) and reading runs at parse speed.
///
/// Problems inside a user's entry are kept and reported in the order ``LEAFFormat``
/// checks them (structure, counts, labels, then samples), for the users the `users`
/// list names; JSON syntax errors end the read at once with the byte where they are.
struct LEAFStreamReader {
    /// What one `user_data` entry held: its samples, or the first problem found.
    enum Entry {
        case samples(LEAFFormat.UserSamples)
        case invalid(String)
    }

    /// The top level of a file as read.
    struct Document {
        var isObject = false
        var users: [String]?
        var usersInvalid = false
        var numSamples: [Int]?
        var numSamplesInvalid = false
        var userData: [String: Entry]?
        var userDataInvalid = false
    }

    struct SyntaxError: Error { var message: String }

    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    /// Bytes consumed before `buffer` starts (for error positions).
    private var consumed = 0
    private var atEnd = false
    private let chunk: Int
    /// For text data (Shakespeare): each `x` is a string whose characters become their
    /// indices, each `y` one character; nil for numbers.
    private let vocabulary: CharacterVocabulary?

    init(handle: FileHandle, chunk: Int, vocabulary: CharacterVocabulary? = nil) {
        self.handle = handle
        self.chunk = Swift.max(1, chunk)
        self.vocabulary = vocabulary
    }

    /// Parses the whole file, `chunk` bytes at a time.
    static func read(path: String, chunk: Int = 4 << 20, vocabulary: CharacterVocabulary? = nil) throws -> Document {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FederatedError.badData(path: path, message: "cannot be read (no permission?)")
        }
        defer { try? handle.close() }
        var reader = LEAFStreamReader(handle: handle, chunk: chunk, vocabulary: vocabulary)
        do {
            return try reader.document()
        } catch let error as SyntaxError {
            throw FederatedError.badData(path: path, message: "is not valid JSON (\(error.message))")
        }
    }

    // MARK: Bytes

    private mutating func refill() throws -> Bool {
        if atEnd { return false }
        consumed += buffer.count
        let data = (try? handle.read(upToCount: chunk)) ?? nil
        guard let data, !data.isEmpty else {
            atEnd = true
            buffer = []
            position = 0
            return false
        }
        buffer = [UInt8](data)
        position = 0
        return true
    }

    /// The next byte without consuming it; nil at the end of the file.
    @inline(__always)
    private mutating func peek() throws -> UInt8? {
        if position < buffer.count { return buffer[position] }
        return try refill() ? buffer[position] : nil
    }

    @inline(__always)
    private mutating func advance() { position += 1 }

    private mutating func fail(_ what: String) -> SyntaxError {
        SyntaxError(message: "\(what) at byte \(consumed + position)")
    }

    /// The next byte that is not white space, not consumed.
    @inline(__always)
    private mutating func peekToken() throws -> UInt8 {
        while let byte = try peek() {
            if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { advance(); continue }
            return byte
        }
        throw fail("unexpected end of the file")
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard try peekToken() == byte else { throw fail("expected '\(Character(UnicodeScalar(byte)))'") }
        advance()
    }

    /// After an element of a list or object: true if another follows (a comma), false
    /// at the closing bracket (consumed).
    private mutating func another(closing: UInt8) throws -> Bool {
        let byte = try peekToken()
        guard byte == 0x2C || byte == closing else { throw fail("expected ',' or '\(Character(UnicodeScalar(closing)))'") }
        advance()
        return byte == 0x2C
    }

    /// True (and consumes it) if the list or object opened just before is empty.
    private mutating func closesAtOnce(_ closing: UInt8) throws -> Bool {
        guard try peekToken() == closing else { return false }
        advance()
        return true
    }

    // MARK: Values

    private mutating func string() throws -> String {
        try expect(0x22)
        var bytes: [UInt8] = []
        while true {
            guard let byte = try peek() else { throw fail("unterminated string") }
            advance()
            switch byte {
            case 0x22: return String(decoding: bytes, as: UTF8.self)
            case 0x5C: try escape(into: &bytes)
            case 0..<0x20: throw fail("control character in a string")
            default: bytes.append(byte)
            }
        }
    }

    private mutating func escape(into bytes: inout [UInt8]) throws {
        guard let byte = try peek() else { throw fail("unterminated string") }
        advance()
        switch byte {
        case 0x22, 0x5C, 0x2F: bytes.append(byte)
        case 0x62: bytes.append(0x08)
        case 0x66: bytes.append(0x0C)
        case 0x6E: bytes.append(0x0A)
        case 0x72: bytes.append(0x0D)
        case 0x74: bytes.append(0x09)
        case 0x75:
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                guard try peek() == 0x5C else { throw fail("unpaired surrogate in a string") }
                advance()
                guard try peek() == 0x75 else { throw fail("unpaired surrogate in a string") }
                advance()
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in a string") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
            bytes.append(contentsOf: Array(String(Character(u)).utf8))
        default: throw fail("invalid escape in a string")
        }
    }

    private mutating func hex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = try peek() else { throw fail("unterminated string") }
            advance()
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw fail("invalid \\u escape")
            }
            value = value * 16 + digit
        }
        return value
    }

    /// A JSON number (the next token must start one). Numbers of at most 15 digits
    /// with a power of ten up to 22 are exact from one multiplication or division
    /// (Clinger's fast path: both operands are exact doubles, so the one rounding is
    /// the correct one); anything else goes to strtod.
    private mutating func number() throws -> Double {
        var text: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var length = 0
        var long: [UInt8] = []
        var mantissa: UInt64 = 0, digits = 0, scale = 0, exponent = 0
        var negative = false, exponentNegative = false, fast = true
        var part = 0  // 0: integer digits, 1: fraction, 2: exponent
        while let byte = try peek() {
            switch byte {
            case 0x30...0x39:
                let d = UInt64(byte - 0x30)
                if part == 2 {
                    if exponent < 10_000 { exponent = exponent * 10 + Int(d) }
                } else if digits < 15 {
                    if mantissa != 0 || d != 0 { digits += 1 }
                    mantissa = mantissa * 10 + d
                    if part == 1 { scale -= 1 }
                } else {
                    fast = false
                }
            case 0x2D:
                if length == 0 { negative = true } else if part == 2 { exponentNegative = true } else { fast = false }
            case 0x2B: if part != 2 { fast = false }
            case 0x2E: if part == 0 { part = 1 } else { fast = false }
            case 0x45, 0x65: if part < 2 { part = 2 } else { fast = false }
            default:
                if fast, Self.endsInDigit(text, length), let value = Self.exact(mantissa, scale + (exponentNegative ? -exponent : exponent), negative),
                   Self.startsLikeJSON(text) {
                    return value
                }
                return try finishNumber(&text, length, long)
            }
            advance()
            if length < 63 {
                withUnsafeMutableBytes(of: &text) { $0[length] = byte }
            } else {
                if long.isEmpty { long = withUnsafeBytes(of: &text) { Array($0.prefix(63)) } }
                long.append(byte)
            }
            length += 1
        }
        return try finishNumber(&text, length, long)
    }

    private static let powersOfTen: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                                1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

    /// mantissa x 10^power when that is exact in one rounding, else nil.
    @inline(__always)
    private static func exact(_ mantissa: UInt64, _ power: Int, _ negative: Bool) -> Double? {
        guard mantissa < (1 << 53), power >= -22, power <= 22 else { return nil }
        let m = Double(mantissa)
        let value = power >= 0 ? m * powersOfTen[power] : m / powersOfTen[-power]
        return negative ? -value : value
    }

    /// Whether the number's text (when short) ends in a digit, as JSON's numbers do.
    @inline(__always)
    private static func endsInDigit(_ text: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64), _ length: Int) -> Bool {
        guard length > 0, length < 63 else { return false }
        let last = withUnsafeBytes(of: text) { $0[length - 1] }
        return (0x30...0x39).contains(last)
    }

    /// An optional minus, then a digit: JSON's start of a number (strtod takes more).
    @inline(__always)
    private static func startsLikeJSON(_ text: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)) -> Bool {
        let first = UInt8(truncatingIfNeeded: text.0), second = UInt8(truncatingIfNeeded: text.0 >> 8)
        return first == 0x2D ? (0x30...0x39).contains(second) : (0x30...0x39).contains(first)
    }

    private mutating func finishNumber(_ text: inout (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64),
                                       _ length: Int, _ long: [UInt8]) throws -> Double {
        guard length > 0 else { throw fail("expected a value") }
        // JSON's grammar: an optional minus, then a digit (strtod alone takes more).
        let (first, second) = withUnsafeBytes(of: &text) { ($0[0], $0[1]) }
        guard first == 0x2D ? (0x30...0x39).contains(second) : (0x30...0x39).contains(first) else { throw fail("invalid number") }
        var end: UnsafeMutablePointer<CChar>?
        let value: Double
        let parsed: Int
        if long.isEmpty {
            (value, parsed) = withUnsafeMutableBytes(of: &text) { raw in
                guard let base = raw.baseAddress else { return (0, -1) }
                let chars = base.assumingMemoryBound(to: CChar.self)
                chars[length] = 0
                let v = strtod(chars, &end)
                return (v, end.map { $0 - chars } ?? 0)
            }
        } else {
            var chars = long.map { CChar(bitPattern: $0) } + [0]
            (value, parsed) = chars.withUnsafeMutableBufferPointer { b in
                guard let base = b.baseAddress else { return (0, -1) }
                let v = strtod(base, &end)
                return (v, end.map { $0 - base } ?? 0)
            }
        }
        guard parsed == length else { throw fail("invalid number") }
        return value
    }

    private mutating func literal(_ word: String) throws {
        for expected in word.utf8 {
            guard try peek() == expected else { throw fail("invalid literal") }
            advance()
        }
    }

    /// Any value, read and thrown away.
    private mutating func skipValue() throws {
        switch try peekToken() {
        case 0x22: _ = try string()
        case 0x7B:
            advance()
            if try closesAtOnce(0x7D) { return }
            repeat {
                _ = try string()
                try expect(0x3A)
                try skipValue()
            } while try another(closing: 0x7D)
        case 0x5B:
            advance()
            if try closesAtOnce(0x5D) { return }
            repeat { try skipValue() } while try another(closing: 0x5D)
        case 0x74: try literal("true")
        case 0x66: try literal("false")
        case 0x6E: try literal("null")
        default: _ = try number()
        }
    }

    // MARK: The document

    mutating func document() throws -> Document {
        var doc = Document()
        guard try peekToken() == 0x7B else {
            try skipValue()
            try endOfFile()
            return doc
        }
        doc.isObject = true
        advance()
        if try !closesAtOnce(0x7D) {
            repeat {
                let key = try string()
                try expect(0x3A)
                switch key {
                case "users": doc.users = try stringList()
                              doc.usersInvalid = doc.users == nil
                case "num_samples": doc.numSamples = try countList()
                                    doc.numSamplesInvalid = doc.numSamples == nil
                case "user_data": doc.userData = try userData()
                                  doc.userDataInvalid = doc.userData == nil
                default: try skipValue()
                }
            } while try another(closing: 0x7D)
        }
        try endOfFile()
        return doc
    }

    private mutating func endOfFile() throws {
        while let byte = try peek() {
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { throw fail("text after the end of the document") }
            advance()
        }
    }

    /// A list of strings, or nil (value skipped) for anything else.
    private mutating func stringList() throws -> [String]? {
        guard try peekToken() == 0x5B else { try skipValue(); return nil }
        advance()
        var out: [String] = []
        var valid = true
        if try closesAtOnce(0x5D) { return out }
        repeat {
            if try peekToken() == 0x22 { out.append(try string()) } else { valid = false; try skipValue() }
        } while try another(closing: 0x5D)
        return valid ? out : nil
    }

    /// A list of whole numbers of at least 0, or nil (value skipped) for anything else.
    private mutating func countList() throws -> [Int]? {
        guard try peekToken() == 0x5B else { try skipValue(); return nil }
        advance()
        var out: [Int] = []
        var valid = true
        if try closesAtOnce(0x5D) { return out }
        repeat {
            if let n = try wholeNumber(), n >= 0 { out.append(n) } else { valid = false }
        } while try another(closing: 0x5D)
        return valid ? out : nil
    }

    /// The next value as a whole number, or nil (value consumed) if it is none.
    private mutating func wholeNumber() throws -> Int? {
        let byte = try peekToken()
        guard byte == 0x2D || (0x30...0x39).contains(byte) else { try skipValue(); return nil }
        let d = try number()
        guard d.isFinite, d == d.rounded(), Swift.abs(d) < 9e15 else { return nil }
        return Int(d)
    }

    private mutating func userData() throws -> [String: Entry]? {
        guard try peekToken() == 0x7B else { try skipValue(); return nil }
        advance()
        var out: [String: Entry] = [:]
        if try closesAtOnce(0x7D) { return out }
        repeat {
            let user = try string()
            try expect(0x3A)
            out[user] = try entry(user: user)
        } while try another(closing: 0x7D)
        return out
    }

    // MARK: One user

    /// What `x` held: the numbers and the shape of sample 0, the count, and the first
    /// problem (sample index and message).
    private struct Samples {
        var features: [Float] = []
        var shape: [Int] = []
        var count = 0
        var problem: (Int, String)?
    }

    private mutating func entry(user: String) throws -> Entry {
        let structure = Entry.invalid("user \(user): user_data entry must be an object with \"x\" and \"y\"")
        guard try peekToken() == 0x7B else { try skipValue(); return structure }
        advance()
        var xs: Samples?
        var ys: (labels: [Int32], count: Int, problem: (Int, String)?)?
        if try !closesAtOnce(0x7D) {
            repeat {
                let key = try string()
                try expect(0x3A)
                switch key {
                case "x": xs = try samples()
                case "y": ys = try labels()
                default: try skipValue()
                }
            } while try another(closing: 0x7D)
        }
        guard let xs, let ys else { return .invalid("user \(user): user_data entry must have lists \"x\" and \"y\"") }
        guard xs.count == ys.count else {
            return .invalid("user \(user): \(xs.count) samples in x but \(ys.count) labels in y")
        }
        if let (i, message) = ys.problem { return .invalid("user \(user) sample \(i): \(message)") }
        if let (i, message) = xs.problem { return .invalid("user \(user) sample \(i): \(message)") }
        return .samples(LEAFFormat.UserSamples(id: user, sampleShape: xs.shape.isEmpty ? [1] : xs.shape,
                                               features: xs.features, labels: ys.labels))
    }

    /// The `x` list, or nil (value skipped) if it is no list.
    private mutating func samples() throws -> Samples? {
        guard try peekToken() == 0x5B else { try skipValue(); return nil }
        advance()
        var out = Samples()
        if try closesAtOnce(0x5D) { return out }
        repeat {
            if let vocabulary {
                try textSample(vocabulary, into: &out, try peekToken() == 0x22 ? try string() : nil)
                continue
            }
            var shape: [Int] = []
            var text = false, regular = true
            let before = out.features.count
            try sample(depth: 0, shape: &shape, into: &out.features, text: &text, regular: &regular)
            if out.problem == nil {
                if !regular {
                    out.problem = (out.count, text ? "x is text; text data (Shakespeare, Sent140) needs a vocabulary (data.vocabulary) and is not read as numbers"
                                                   : "x must be a number or a regularly nested list of numbers")
                } else {
                    if shape.isEmpty { shape = [1] }
                    if out.count == 0 {
                        out.shape = shape
                    } else if shape != out.shape {
                        out.problem = (out.count, "x has shape \(shape), sample 0 has \(out.shape)")
                    }
                    if out.problem == nil && out.features.count == before { out.problem = (out.count, "x is empty") }
                }
            }
            out.count += 1
        } while try another(closing: 0x5D)
        return out
    }

    /// One text sample: its characters' indices (shape [characters]), or a problem.
    private mutating func textSample(_ vocabulary: CharacterVocabulary, into out: inout Samples, _ text: String?) throws {
        defer { out.count += 1 }
        guard out.problem == nil else { if text == nil { try skipValue() }; return }
        guard let text else {
            try skipValue()
            out.problem = (out.count, "x must be a string of text (the data names a vocabulary)")
            return
        }
        let shape = [text.unicodeScalars.count]
        guard shape[0] > 0 else { out.problem = (out.count, "x is empty (a sequence length of 0)"); return }
        if out.count == 0 { out.shape = shape } else if shape != out.shape {
            out.problem = (out.count, "x has \(shape[0]) characters, sample 0 has \(out.shape[0])")
            return
        }
        do {
            for k in try vocabulary.encode(text, what: "x") { out.features.append(Float(k)) }
        } catch {
            out.problem = (out.count, "\(error)")
        }
    }

    /// One sample's value, read whole whatever it holds: numbers are appended, the shape
    /// recorded on the way down, and anything irregular only marked.
    private mutating func sample(depth: Int, shape: inout [Int], into out: inout [Float], text: inout Bool, regular: inout Bool) throws {
        switch try peekToken() {
        case 0x5B:
            advance()
            // The first list at a depth sets its length (-1 until it is known).
            if shape.count == depth { shape.append(-1) } else if shape.count < depth { regular = false }
            var count = 0
            if try !closesAtOnce(0x5D) {
                repeat {
                    try sample(depth: depth + 1, shape: &shape, into: &out, text: &text, regular: &regular)
                    count += 1
                } while try another(closing: 0x5D)
            }
            if shape.count > depth {
                if shape[depth] == -1 { shape[depth] = count } else if shape[depth] != count { regular = false }
            }
        case 0x22:
            _ = try string()
            text = true
            regular = false
        case 0x2D, 0x30...0x39:
            let d = try number()
            // A number where an earlier sibling was a list, or not finite.
            if shape.count > depth || !d.isFinite { regular = false }
            if regular { out.append(Float(d)) }
        default:
            try skipValue()
            regular = false
        }
    }

    private mutating func labels() throws -> (labels: [Int32], count: Int, problem: (Int, String)?)? {
        guard try peekToken() == 0x5B else { try skipValue(); return nil }
        advance()
        var labels: [Int32] = []
        var problem: (Int, String)?
        var count = 0
        if try closesAtOnce(0x5D) { return (labels, 0, nil) }
        repeat {
            if try peekToken() == 0x22 {
                let text = try string()
                if let vocabulary {
                    let scalars = Array(text.unicodeScalars)
                    if scalars.count == 1, let k = vocabulary.index(of: scalars[0]) {
                        labels.append(k)
                    } else if problem == nil {
                        problem = (count, scalars.count == 1 ? "label \(CharacterVocabulary.show(scalars[0])) is not in the vocabulary"
                                                            : "label must be one character, got \(scalars.count)")
                    }
                } else if problem == nil {
                    problem = (count, "label is text; text data (Shakespeare, Sent140) needs a vocabulary (data.vocabulary) and is not read as numbers")
                }
            } else if let value = try wholeNumber(), value >= 0, value <= Int(Int32.max) {
                labels.append(Int32(value))
            } else if problem == nil {
                problem = (count, "label must be a whole number of at least 0")
            }
            count += 1
        } while try another(closing: 0x5D)
        return (labels, count, problem)
    }
}

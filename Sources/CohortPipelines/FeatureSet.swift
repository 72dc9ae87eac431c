import CohortData
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The three splits of a data set as one stage of a pipeline sees them: row-major
/// float matrices with a common number of columns, plus the labels (which no stage
/// changes). A stage's output is one of these, and it is what the caches hold.
public struct FeatureSet: Sendable, Equatable {
    public var columns: Int
    public var train: [Float]
    public var validation: [Float]
    public var test: [Float]

    public init(columns: Int, train: [Float], validation: [Float], test: [Float]) {
        self.columns = columns
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// The splits' features, flattened (an image becomes a row of pixels).
    public init(_ data: (train: Dataset, validation: Dataset, test: Dataset)) {
        self.init(columns: data.train.featureCount, train: data.train.features, validation: data.validation.features,
                  test: data.test.features)
    }

    public var trainRows: Int { columns > 0 ? train.count / columns : 0 }
    public var validationRows: Int { columns > 0 ? validation.count / columns : 0 }
    public var testRows: Int { columns > 0 ? test.count / columns : 0 }

    /// Bytes of feature values held (what a cache's capacity counts).
    public var bytes: Int { (train.count + validation.count + test.count) * MemoryLayout<Float>.size }

    /// Applies `transform` (rows x columns in, rows x outColumns out) to each split.
    public func mapSplits(columns outColumns: Int, _ transform: ([Float], Int) throws -> [Float]) rethrows -> FeatureSet {
        FeatureSet(columns: outColumns, train: try transform(train, trainRows),
                   validation: try transform(validation, validationRows), test: try transform(test, testRows))
    }

    // MARK: Files

    /// "CohortFS" then version 1.
    static let magic: [UInt8] = Array("CohortFS".utf8) + [1, 0, 0, 0]

    /// The bytes of a cache file: magic, key, cost, the counts, then the floats.
    func encoded(key: String, cost: Double) -> Data {
        var d = Data(Self.magic)
        var keyBytes = Array(key.utf8.prefix(64))
        keyBytes += [UInt8](repeating: 0, count: 64 - keyBytes.count)
        d.append(contentsOf: keyBytes)
        func put(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        put(cost.bitPattern)
        put(UInt64(columns))
        put(UInt64(train.count))
        put(UInt64(validation.count))
        put(UInt64(test.count))
        d.reserveCapacity(d.count + bytes)
        for part in [train, validation, test] { part.withUnsafeBytes { d.append(contentsOf: $0) } }
        return d
    }

    static let headerBytes = magic.count + 64 + 5 * 8

    /// Reads the cache file at `path` straight into the splits' arrays (no mapping,
    /// no intermediate copy: a hit on a few hundred megabytes costs one pass over
    /// them); `nil` when it is not a cache file, or not the entry of `key`, or its
    /// length disagrees with its counts (never trusted, only recomputed).
    static func read(path: String, key: String) -> (features: FeatureSet, cost: Double)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        var head = [UInt8](repeating: 0, count: headerBytes)
        guard readFully(fd, &head, bytes: headerBytes),
              let (cost, columns, counts) = header(head, key: key, fileSize: Int(st.st_size)) else { return nil }
        var parts: [[Float]] = []
        for n in counts {
            var ok = true
            let part = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
                ok = buffer.baseAddress.map { readFully(fd, $0, bytes: n * 4) } ?? (n == 0)
                initialized = ok ? n : 0
            }
            guard ok else { return nil }
            parts.append(part)
        }
        return (FeatureSet(columns: columns, train: parts[0], validation: parts[1], test: parts[2]), cost)
    }

    private static func readFully(_ fd: Int32, _ destination: UnsafeMutableRawPointer, bytes: Int) -> Bool {
        var done = 0
        while done < bytes {
            let n = Glibc.read(fd, destination + done, bytes - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    /// The cost, columns and split sizes a header states, if it is the header of
    /// `key`'s entry and agrees with the file's size.
    private static func header(_ head: [UInt8], key: String, fileSize: Int) -> (Double, Int, [Int])? {
        guard head.count == headerBytes, Array(head.prefix(magic.count)) == magic else { return nil }
        let storedKey = String(decoding: head[magic.count..<(magic.count + 64)].prefix { $0 != 0 }, as: UTF8.self)
        guard storedKey == key else { return nil }
        var offset = magic.count + 64
        func take() -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(head[offset + i]) << (8 * UInt64(i)) }
            offset += 8
            return v
        }
        let cost = Double(bitPattern: take())
        let raw = (0..<4).map { _ in take() }
        let limit = UInt64(fileSize / 4)
        guard raw.allSatisfy({ $0 <= limit }) else { return nil }
        let columns = Int(raw[0]), counts = raw[1...].map { Int($0) }
        guard fileSize == headerBytes + counts.reduce(0, +) * 4, columns > 0, counts.allSatisfy({ $0 % columns == 0 }) else { return nil }
        return (cost.isFinite ? cost : 0, columns, counts)
    }
}

/// FNV-1a over 64-bit words: a digest of floats and names that is the same in every
/// process and fast enough for a whole data set (about 0.1 s for Fashion-MNIST).
struct StableHash {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ word: UInt64) { value = (value ^ word) &* 0x0000_0100_0000_01B3 }

    mutating func add(_ text: String) {
        for b in text.utf8 { add(UInt64(b)) }
        add(0xFF)
    }

    mutating func add(_ floats: [Float]) {
        add(UInt64(floats.count))
        floats.withUnsafeBufferPointer { p in
            var i = 0
            while i + 1 < p.count {
                add(UInt64(p[i].bitPattern) | UInt64(p[i + 1].bitPattern) << 32)
                i += 2
            }
            if i < p.count { add(UInt64(p[i].bitPattern)) }
        }
    }

    mutating func add(_ labels: [Int32]) {
        add(UInt64(labels.count))
        for l in labels { add(UInt64(UInt32(bitPattern: l))) }
    }

    /// 52 bits as 13 hex digits: exactly representable as a JSON number, so a journal
    /// can carry a key in a job's numeric results.
    var key: String { Self.key(value) }

    static let keyMask: UInt64 = (1 << 52) - 1

    /// The key of a hash value (or of one read back from a journal).
    static func key(_ value: UInt64) -> String { String(format: "%013llx", value & keyMask) }
}

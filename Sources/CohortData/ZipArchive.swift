import CZlib
import Foundation

/// A zip archive read through its central directory: names, sizes and the bytes of
/// each entry (stored, or raw deflate through zlib), each checked against its CRC.
///
/// Dataset releases ship as zip files (Omniglot's splits); reading them in place spares
/// users an unpacking step. Zip64 and encrypted entries are refused with a message.
public struct ZipArchive: Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// 0 stored, 8 deflate.
        public let method: Int
        public let crc: UInt32
        public let compressedSize: Int
        public let size: Int
        let localHeaderOffset: Int
        public var isDirectory: Bool { name.hasSuffix("/") }
    }

    public let path: String
    public let entries: [Entry]
    private let bytes: [UInt8]

    /// Opens the archive at `path` (the whole file is read once).
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileManager.default.fileExists(atPath: path) ? DatasetError.unreadable(path: path, reason: "cannot read") : DatasetError.fileNotFound(path: path)
        }
        try self.init(bytes: [UInt8](data), path: path)
    }

    /// Reads the central directory of an archive held in memory.
    public init(bytes: [UInt8], path: String) throws {
        self.path = path
        self.bytes = bytes
        func bad(_ detail: String) -> DatasetError { .malformedHeader(path: path, detail: "not a readable zip archive: \(detail)") }
        // The end-of-central-directory record: 22 bytes plus a comment of up to 65535.
        guard bytes.count >= 22 else { throw bad("\(bytes.count) bytes is shorter than an end record") }
        var end = -1
        var at = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65535)
        while at >= lowest {
            if ZipArchive.u32(bytes, at) == 0x0605_4B50 { end = at; break }
            at -= 1
        }
        guard end >= 0 else { throw bad("no end-of-central-directory record") }
        let count = Int(ZipArchive.u16(bytes, end + 10))
        let directorySize = Int(ZipArchive.u32(bytes, end + 12)), directoryOffset = Int(ZipArchive.u32(bytes, end + 16))
        guard count != 0xFFFF, directoryOffset != 0xFFFF_FFFF else { throw bad("zip64 archives are not read") }
        guard directoryOffset <= end, directorySize <= end - directoryOffset else { throw bad("the central directory lies outside the file") }
        var entries: [Entry] = []
        var p = directoryOffset
        for i in 0..<count {
            guard p + 46 <= end, ZipArchive.u32(bytes, p) == 0x0201_4B50 else { throw bad("central directory entry \(i) is damaged") }
            let flags = ZipArchive.u16(bytes, p + 8)
            let method = Int(ZipArchive.u16(bytes, p + 10))
            let crc = ZipArchive.u32(bytes, p + 16)
            let compressed = Int(ZipArchive.u32(bytes, p + 20)), size = Int(ZipArchive.u32(bytes, p + 24))
            let nameLength = Int(ZipArchive.u16(bytes, p + 28))
            let extra = Int(ZipArchive.u16(bytes, p + 30)), comment = Int(ZipArchive.u16(bytes, p + 32))
            let local = Int(ZipArchive.u32(bytes, p + 42))
            guard p + 46 + nameLength <= end else { throw bad("central directory entry \(i) runs past the directory") }
            let name = String(decoding: bytes[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            guard flags & 1 == 0 else { throw bad("\(name) is encrypted") }
            guard compressed != 0xFFFF_FFFF, size != 0xFFFF_FFFF, local != 0xFFFF_FFFF else { throw bad("zip64 archives are not read") }
            entries.append(Entry(name: name, method: method, crc: crc, compressedSize: compressed, size: size, localHeaderOffset: local))
            p += 46 + nameLength + extra + comment
        }
        self.entries = entries
    }

    /// The entry called `name`, if any.
    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    /// The uncompressed bytes of `entry`, checked against its size and CRC.
    public func contents(of entry: Entry) throws -> [UInt8] {
        let where_ = "\(path)!\(entry.name)"
        func bad(_ detail: String) -> DatasetError { .malformedHeader(path: where_, detail: "damaged zip entry: \(detail)") }
        let local = entry.localHeaderOffset
        guard local + 30 <= bytes.count, ZipArchive.u32(bytes, local) == 0x0403_4B50 else { throw bad("no local header") }
        let start = local + 30 + Int(ZipArchive.u16(bytes, local + 26)) + Int(ZipArchive.u16(bytes, local + 28))
        guard start <= bytes.count, entry.compressedSize <= bytes.count - start else {
            throw DatasetError.truncated(path: where_, detail: "the entry's \(entry.compressedSize) bytes run past the end of the archive")
        }
        // Deflate expands at most about 1032:1: a bound on a damaged size field.
        guard entry.size <= max(entry.compressedSize, 1) * 1032 else { throw bad("implausible size \(entry.size)") }
        let output: [UInt8]
        switch entry.method {
        case 0:
            guard entry.size == entry.compressedSize else { throw bad("stored entry with differing sizes") }
            output = Array(bytes[start..<(start + entry.size)])
        case 8:
            output = try inflateRaw(start: start, count: entry.compressedSize, expected: entry.size, path: where_)
        default:
            throw bad("compression method \(entry.method) is not read (only stored and deflate)")
        }
        let crc = output.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        guard crc == entry.crc else { throw bad("CRC mismatch") }
        return output
    }

    private func inflateRaw(start: Int, count: Int, expected: Int, path: String) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: expected + 1)
        var stream = z_stream()
        // Negative window bits: raw deflate, no zlib header.
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError.corruptCompressedData(path: path, reason: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        let (status, produced): (Int32, Int) = bytes.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress! + start)
                stream.avail_in = uInt(count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                let s = inflate(&stream, Z_FINISH)
                return (s, out.count - Int(stream.avail_out))
            }
        }
        guard status == Z_STREAM_END, produced == expected else {
            if status == Z_STREAM_END || status == Z_BUF_ERROR {
                throw DatasetError.truncated(path: path, detail: "inflated to \(produced) bytes, the directory says \(expected)")
            }
            throw DatasetError.corruptCompressedData(path: path, reason: stream.msg.map { String(cString: $0) } ?? "zlib status \(status)")
        }
        output.removeLast()
        return output
    }

    static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }

    // MARK: Writing (tests)

    /// A stored (uncompressed) archive of `files`, for tests that need a small zip.
    public static func stored(_ files: [(name: String, bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [], directory: [UInt8] = []
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        for f in files {
            let name = Array(f.name.utf8)
            let crc = f.bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            let offset = out.count
            let common = le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc) + le32(UInt32(f.bytes.count)) + le32(UInt32(f.bytes.count)) + le16(name.count) + le16(0)
            out += le32(0x0403_4B50) + common + name + f.bytes
            directory += le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(UInt32(offset)) + name
        }
        let directoryOffset = out.count
        out += directory
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(files.count) + le16(files.count) + le32(UInt32(directory.count)) + le32(UInt32(directoryOffset)) + le16(0)
        return out
    }
}

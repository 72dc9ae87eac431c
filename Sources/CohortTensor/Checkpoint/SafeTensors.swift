import Foundation

/// The safetensors file format, read and written without outside libraries.
///
/// Layout: an 8-byte little-endian header length N; N bytes of JSON mapping each tensor
/// name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the
/// data section) plus an optional `"__metadata__"` string-to-string map; then the data
/// section, little-endian, tensors packed without gaps. The header is padded with
/// spaces to a multiple of 8 bytes so the data is aligned. Every file written records
/// the CRC-32 of its tensor data as `__metadata__.crc32`, checked on reading, so a
/// damaged file is refused instead of restoring wrong weights.
public struct SafeTensors {
    public enum DType: String, Sendable {
        case f32 = "F32", f64 = "F64", i32 = "I32", i64 = "I64", u64 = "U64", u8 = "U8"
        public var size: Int {
            switch self {
            case .u8: return 1
            case .f32, .i32: return 4
            case .f64, .i64, .u64: return 8
            }
        }
    }

    /// One named array of raw little-endian bytes.
    public struct Entry: Sendable, Equatable {
        public var dtype: DType
        public var shape: [Int]
        public var data: Data

        public init(dtype: DType, shape: [Int], data: Data) {
            self.dtype = dtype; self.shape = shape; self.data = data
        }

        public init(floats: UnsafeBufferPointer<Float>, shape: [Int]) {
            self.init(dtype: .f32, shape: shape, data: Data(buffer: floats))
        }

        public init(uint64s: [UInt64], shape: [Int]) {
            self.init(dtype: .u64, shape: shape, data: uint64s.withUnsafeBufferPointer { Data(buffer: $0) })
        }

        public var elementCount: Int { shape.reduce(1, *) }

        /// The values as Float32 (only for F32 entries).
        public func floats() -> [Float] {
            precondition(dtype == .f32, "entry is \(dtype.rawValue), not F32")
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }

        /// Copies F32 values into `destination` (counts must match).
        public func copyFloats(into destination: UnsafeMutableBufferPointer<Float>) {
            precondition(dtype == .f32 && elementCount == destination.count)
            _ = data.withUnsafeBytes { destination.initialize(from: $0.bindMemory(to: Float.self)) }
        }

        public func uint64s() -> [UInt64] {
            precondition(dtype == .u64, "entry is \(dtype.rawValue), not U64")
            return data.withUnsafeBytes { Array($0.bindMemory(to: UInt64.self)) }
        }
    }

    /// Entries in file order.
    public var entries: [(name: String, entry: Entry)] = []
    public var metadata: [String: String] = [:]

    public init(entries: [(name: String, entry: Entry)] = [], metadata: [String: String] = [:]) {
        self.entries = entries
        self.metadata = metadata
    }

    public subscript(name: String) -> Entry? { entries.first { $0.name == name }?.entry }

    /// The CRC-32 of the tensor data in file order, in hex.
    public var dataChecksum: String {
        var crc: UInt32 = 0
        for (_, e) in entries { crc = e.data.withUnsafeBytes { CRC32.checksum($0, seed: crc) } }
        return String(crc, radix: 16)
    }

    /// The entry `name` as a flat F32 array of `count` values, or an error naming what
    /// does not match.
    public func floats(_ name: String, count: Int? = nil, path: String = "<memory>") throws -> [Float] {
        guard let e = self[name] else { throw SafeTensorsError(path: path, reason: "no tensor named '\(name)'") }
        guard e.dtype == .f32 else { throw SafeTensorsError(path: path, reason: "tensor '\(name)' is \(e.dtype.rawValue), not F32") }
        if let count, e.elementCount != count {
            throw SafeTensorsError(path: path, reason: "tensor '\(name)' has \(e.elementCount) values, expected \(count)")
        }
        return e.floats()
    }

    // MARK: Writing

    /// The file's bytes. Tensors are stored in the order given; header keys sorted, so
    /// equal contents give identical files.
    public func serialized() throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for (name, e) in entries {
            guard name != "__metadata__" else { throw SafeTensorsError(path: "", reason: "a tensor may not be called __metadata__") }
            guard e.data.count == e.elementCount * e.dtype.size else {
                throw SafeTensorsError(path: "", reason: "tensor \(name) has \(e.data.count) bytes for shape \(e.shape) of \(e.dtype.rawValue)")
            }
            header[name] = ["dtype": e.dtype.rawValue, "shape": e.shape, "data_offsets": [offset, offset + e.data.count]] as [String: Any]
            offset += e.data.count
        }
        var metadata = self.metadata
        metadata["crc32"] = dataChecksum
        header["__metadata__"] = metadata
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, e) in entries { out.append(e.data) }
        return out
    }

    /// Writes atomically (temporary file, then rename) so a crash never leaves a torn
    /// checkpoint under the real name.
    public func write(to url: URL) throws {
        let data: Data
        do { data = try serialized() } catch let e as SafeTensorsError {
            throw SafeTensorsError(path: url.path, reason: e.reason)
        }
        do { try data.write(to: url, options: .atomic) } catch {
            throw SafeTensorsError(path: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    // MARK: Reading

    public static func read(from url: URL) throws -> SafeTensors {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SafeTensorsError(path: url.path, reason: FileManager.default.fileExists(atPath: url.path)
                                   ? "cannot read: \(error.localizedDescription)" : "no such file")
        }
        return try parse(data, path: url.path)
    }

    /// Parses and validates a whole file: header length, JSON, dtypes, shapes against
    /// byte ranges, and that the ranges tile the data section exactly.
    public static func parse(_ data: Data, path: String = "<memory>") throws -> SafeTensors {
        func fail(_ reason: String) -> SafeTensorsError { SafeTensorsError(path: path, reason: reason) }
        guard data.count >= 8 else { throw fail("truncated: \(data.count) bytes, too short for the 8-byte header length") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("truncated or corrupt: header length \(headerLength) but only \(data.count - 8) bytes follow")
        }
        let headerEnd = 8 + Int(headerLength)
        let json = data.subdata(in: 8..<headerEnd)
        guard let object = try? JSONSerialization.jsonObject(with: json), let header = object as? [String: Any] else {
            throw fail("corrupt: the header is not a JSON object")
        }
        var result = SafeTensors()
        if let meta = header["__metadata__"] {
            guard let m = meta as? [String: String] else { throw fail("corrupt: __metadata__ must map strings to strings") }
            result.metadata = m
        }
        let dataSize = data.count - headerEnd
        var ranges: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any],
                  let dtypeName = info["dtype"] as? String,
                  let shape = (info["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offsets = (info["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  offsets.count == 2, shape.count == (info["shape"] as? [Any])?.count
            else { throw fail("corrupt: entry \(name) lacks dtype, shape or data_offsets") }
            guard let dtype = DType(rawValue: dtypeName) else { throw fail("tensor \(name) has unsupported dtype \(dtypeName)") }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[1] >= offsets[0] else {
                throw fail("corrupt: tensor \(name) has a negative dimension or reversed offsets")
            }
            let expected = shape.reduce(1, *) * dtype.size
            guard offsets[1] - offsets[0] == expected else {
                throw fail("corrupt: tensor \(name) of shape \(shape) \(dtypeName) needs \(expected) bytes, offsets give \(offsets[1] - offsets[0])")
            }
            guard offsets[1] <= dataSize else {
                throw fail("truncated: tensor \(name) ends at byte \(offsets[1]) of the data section, which has \(dataSize) bytes")
            }
            ranges.append((name, dtype, shape, offsets[0], offsets[1]))
        }
        ranges.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var cursor = 0
        for r in ranges {
            guard r.begin == cursor else { throw fail("corrupt: tensor data overlaps or leaves a gap at byte \(cursor) (tensor \(r.name))") }
            cursor = r.end
        }
        guard cursor == dataSize else { throw fail("corrupt: \(dataSize - cursor) bytes after the last tensor") }
        result.entries = ranges.map { r in
            (r.name, Entry(dtype: r.dtype, shape: r.shape, data: data.subdata(in: (headerEnd + r.begin)..<(headerEnd + r.end))))
        }
        if let expected = result.metadata["crc32"], result.dataChecksum != expected {
            throw fail("corrupt: tensor data checksum \(result.dataChecksum) does not match the recorded \(expected)")
        }
        return result
    }
}

/// A safetensors file that cannot be read or written; names the file.
public struct SafeTensorsError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "checkpoint \(path): \(reason)" }
}

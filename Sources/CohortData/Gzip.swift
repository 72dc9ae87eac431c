import CZlib
import Foundation

/// gzip through zlib: reading compressed dataset files and writing them (tests, exports).
///
/// Files are recognised as gzip by their first two bytes (`1f 8b`), not by their name, so
/// `train-images-idx3-ubyte` may be raw or compressed under either name.
public enum Gzip {
    /// Whether `bytes` start with the gzip magic `1f 8b`.
    public static func isCompressed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Whether `bytes` start with the gzip magic `1f 8b`.
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isCompressed($0) }
    }

    // MARK: Decompressing

    /// Inflates a whole gzip file (one or more concatenated members); `path` names the
    /// source in error messages.
    public static func decompress(_ compressed: UnsafeRawBufferPointer, path: String) throws -> [UInt8] {
        guard compressed.count >= 18 else {
            throw DatasetError.truncated(path: path, detail: "gzip file of \(compressed.count) bytes is shorter than a gzip header and trailer")
        }
        // The trailer's ISIZE (uncompressed size mod 2^32) of the last member sizes the
        // first allocation; growth covers multi-member and larger-than-4-GiB files.
        let tail = compressed.count - 4
        let sizeHint = Int(compressed[tail]) | Int(compressed[tail + 1]) << 8
            | Int(compressed[tail + 2]) << 16 | Int(compressed[tail + 3]) << 24
        // Deflate expands at most about 1032:1, which bounds the hint of a corrupt trailer.
        let plausible = min(sizeHint, compressed.count * 1032)
        var output = [UInt8](repeating: 0, count: max(plausible, 1024))
        var produced = 0

        var stream = z_stream()
        // 15 window bits + 16: expect a gzip wrapper.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError.corruptCompressedData(path: path, reason: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }

        let base = UnsafeMutablePointer(mutating: compressed.baseAddress!.assumingMemoryBound(to: Bytef.self))
        let step = 1 << 30 // zlib counts in 32-bit words; feed it at most 1 GiB at a time
        var consumed = 0
        while true {
            if produced == output.count { output.append(contentsOf: repeatElement(0, count: output.count)) }
            let chunk = min(compressed.count - consumed, step)
            stream.next_in = base + consumed
            stream.avail_in = uInt(chunk)
            let status: Int32 = output.withUnsafeMutableBufferPointer { out in
                let room = min(out.count - produced, step)
                stream.next_out = out.baseAddress! + produced
                stream.avail_out = uInt(room)
                let result = inflate(&stream, Z_NO_FLUSH)
                produced += room - Int(stream.avail_out)
                return result
            }
            consumed += chunk - Int(stream.avail_in)
            switch status {
            case Z_STREAM_END:
                // Another member may follow (`cat a.gz b.gz`); anything else after the
                // stream (zero padding) is ignored, as gzip itself does.
                if isCompressed(UnsafeRawBufferPointer(rebasing: compressed[consumed...])) {
                    inflateReset(&stream)
                    continue
                }
                output.removeSubrange(produced...)
                return output
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress was possible: the output is full (grow it) or the input ran out.
                if produced == output.count { continue }
                throw DatasetError.truncated(
                    path: path, detail: "the gzip stream ends early after \(produced) uncompressed bytes")
            case Z_MEM_ERROR:
                throw DatasetError.corruptCompressedData(path: path, reason: "zlib ran out of memory")
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw DatasetError.corruptCompressedData(path: path, reason: message)
            }
        }
    }

    // MARK: Compressing

    /// Deflates `bytes` into one gzip member.
    public static func compress(_ bytes: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION) -> [UInt8] {
        var stream = z_stream()
        let started = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                    ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(started == Z_OK, "zlib could not start deflating (status \(started))")
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(bytes.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        var input = bytes
        let written: Int = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "zlib deflate did not finish (status \(status))")
                return target.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(written...)
        return output
    }
}

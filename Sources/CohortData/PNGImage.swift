import CZlib
import Foundation

/// A grayscale PNG image decoded to one byte per pixel (0 black ... 255 white).
///
/// Reads what image datasets such as Omniglot ship: colour type 0 (grayscale) at bit
/// depths 1, 2, 4 and 8, not interlaced. Every chunk's CRC is checked and the header's
/// sizes are bounded before anything is allocated, so a damaged file ends with one
/// message naming it instead of a trap or a garbage image.
public struct PNGImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height` gray levels, row by row; lower bit depths are scaled to 0...255.
    public let pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height, "PNGImage: \(pixels.count) pixels for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The largest side accepted: far above any dataset image, far below what would
    /// make `width * height` overflow or exhaust memory.
    public static let maximumSide = 1 << 14

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    // MARK: Decoding

    /// Decodes `bytes`; `path` names the source in error messages.
    public static func decode(_ bytes: [UInt8], path: String) throws -> PNGImage {
        func damaged(_ detail: String) -> DatasetError { .malformedHeader(path: path, detail: "damaged PNG: \(detail)") }
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw damaged("the PNG signature is missing") }
        var position = 8
        var header: (width: Int, height: Int, depth: Int)?
        var compressed: [UInt8] = []
        var ended = false
        while !ended {
            guard position + 12 <= bytes.count else { throw DatasetError.truncated(path: path, detail: "PNG ends inside a chunk header at byte \(position)") }
            let length = Int(readBigEndian(bytes, position))
            let typeStart = position + 4
            guard length <= bytes.count - typeStart - 8 else {
                throw DatasetError.truncated(path: path, detail: "PNG chunk at byte \(position) claims \(length) bytes, past the end of the file")
            }
            let type = String(decoding: bytes[typeStart..<(typeStart + 4)], as: UTF8.self)
            let dataStart = typeStart + 4, dataEnd = dataStart + length
            let stored = readBigEndian(bytes, dataEnd)
            let computed: UInt32 = bytes.withUnsafeBufferPointer { b in
                UInt32(crc32(0, b.baseAddress! + typeStart, uInt(length + 4)))
            }
            guard stored == computed else { throw damaged("CRC mismatch in chunk \(type) at byte \(position)") }
            switch type {
            case "IHDR":
                guard length == 13 else { throw damaged("IHDR of \(length) bytes, expected 13") }
                let w = Int(readBigEndian(bytes, dataStart)), h = Int(readBigEndian(bytes, dataStart + 4))
                let depth = Int(bytes[dataStart + 8]), colour = bytes[dataStart + 9]
                guard (1...maximumSide).contains(w), (1...maximumSide).contains(h) else {
                    throw damaged("image size \(w)x\(h) outside 1...\(maximumSide)")
                }
                guard colour == 0 else { throw damaged("colour type \(colour) is not grayscale (only grayscale PNGs are read)") }
                guard [1, 2, 4, 8].contains(depth) else { throw damaged("bit depth \(depth) is not one of 1, 2, 4, 8") }
                guard bytes[dataStart + 10] == 0, bytes[dataStart + 11] == 0 else { throw damaged("unknown compression or filter method") }
                guard bytes[dataStart + 12] == 0 else { throw damaged("interlaced images are not read") }
                header = (w, h, depth)
            case "IDAT":
                guard header != nil else { throw damaged("IDAT before IHDR") }
                compressed.append(contentsOf: bytes[dataStart..<dataEnd])
            case "IEND":
                ended = true
            default:
                break // ancillary chunks (gAMA, tEXt, ...) carry nothing we need
            }
            position = dataEnd + 4
        }
        guard let header else { throw damaged("no IHDR chunk") }
        let rowBytes = (header.width * header.depth + 7) / 8
        let expected = (rowBytes + 1) * header.height
        // Deflate expands at most about 1032:1: a header promising more than the data can
        // hold is damaged, and is refused before its size is allocated.
        guard expected <= compressed.count * 1032 + 64 else {
            throw DatasetError.truncated(path: path, detail: "PNG image data of \(compressed.count) bytes cannot hold \(header.width)x\(header.height) pixels")
        }
        let raw = try inflateZlib(compressed, expected: expected, path: path)
        guard raw.count == expected else {
            throw DatasetError.truncated(path: path, detail: "PNG image data holds \(raw.count) bytes, \(header.width)x\(header.height) at \(header.depth) bits needs \(expected)")
        }
        let rows = try unfilter(raw, rowBytes: rowBytes, height: header.height, bytesPerPixel: 1, path: path)
        return PNGImage(width: header.width, height: header.height,
                        pixels: unpack(rows, width: header.width, height: header.height, rowBytes: rowBytes, depth: header.depth))
    }

    /// Reads and decodes the file at `path`.
    public static func read(path: String) throws -> PNGImage {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileManager.default.fileExists(atPath: path) ? DatasetError.unreadable(path: path, reason: "cannot read") : DatasetError.fileNotFound(path: path)
        }
        return try decode([UInt8](data), path: path)
    }

    static func readBigEndian(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }

    /// Inflates a zlib stream (the concatenated IDAT data) that should hold `expected` bytes.
    static func inflateZlib(_ input: [UInt8], expected: Int, path: String) throws -> [UInt8] {
        // One spare byte detects a stream longer than the image.
        var output = [UInt8](repeating: 0, count: expected + 1)
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError.corruptCompressedData(path: path, reason: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        var source = input
        let (status, produced): (Int32, Int) = source.withUnsafeMutableBufferPointer { src in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = src.baseAddress
                stream.avail_in = uInt(src.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                let s = inflate(&stream, Z_FINISH)
                return (s, out.count - Int(stream.avail_out))
            }
        }
        switch status {
        case Z_STREAM_END:
            return Array(output[0..<produced])
        case Z_BUF_ERROR where produced == output.count:
            throw DatasetError.malformedHeader(path: path, detail: "damaged PNG: image data is longer than the header's size")
        case Z_BUF_ERROR:
            throw DatasetError.truncated(path: path, detail: "PNG image data ends early after \(produced) of \(expected) bytes")
        default:
            let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
            throw DatasetError.corruptCompressedData(path: path, reason: message)
        }
    }

    /// Undoes the five PNG row filters; returns the rows without their filter bytes.
    static func unfilter(_ raw: [UInt8], rowBytes: Int, height: Int, bytesPerPixel bpp: Int, path: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rowBytes * height)
        for y in 0..<height {
            let filter = raw[y * (rowBytes + 1)]
            let src = y * (rowBytes + 1) + 1, dst = y * rowBytes
            for x in 0..<rowBytes {
                let a = x >= bpp ? Int(out[dst + x - bpp]) : 0
                let b = y > 0 ? Int(out[dst - rowBytes + x]) : 0
                let c = x >= bpp && y > 0 ? Int(out[dst - rowBytes + x - bpp]) : 0
                let v = Int(raw[src + x])
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default:
                    throw DatasetError.malformedHeader(path: path, detail: "damaged PNG: unknown row filter \(filter) in row \(y)")
                }
                out[dst + x] = UInt8(truncatingIfNeeded: v + predicted)
            }
        }
        return out
    }

    /// Spreads packed samples to one byte each, scaled to 0...255.
    static func unpack(_ rows: [UInt8], width: Int, height: Int, rowBytes: Int, depth: Int) -> [UInt8] {
        if depth == 8 { return rows }
        let perByte = 8 / depth, mask = (1 << depth) - 1, scale = 255 / mask
        var pixels = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let byte = Int(rows[y * rowBytes + x / perByte])
                let shift = 8 - depth * (x % perByte + 1)
                pixels[y * width + x] = UInt8(((byte >> shift) & mask) * scale)
            }
        }
        return pixels
    }

    // MARK: Encoding (tests and exports)

    /// An 8-bit (or, when every pixel is 0 or 255 and `oneBit` is set, 1-bit) grayscale
    /// PNG of this image, each row with filter `filter`.
    public func encoded(oneBit: Bool = false, filter: UInt8 = 0) -> [UInt8] {
        let depth = oneBit ? 1 : 8
        let rowBytes = (width * depth + 7) / 8
        var rows = [UInt8](repeating: 0, count: rowBytes * height)
        for y in 0..<height {
            for x in 0..<width {
                let p = pixels[y * width + x]
                if oneBit { if p >= 128 { rows[y * rowBytes + x / 8] |= UInt8(0x80 >> (x % 8)) } } else { rows[y * rowBytes + x] = p }
            }
        }
        var raw: [UInt8] = []
        for y in 0..<height {
            raw.append(filter)
            for x in 0..<rowBytes {
                let v = rows[y * rowBytes + x]
                let a = x >= 1 ? Int(rows[y * rowBytes + x - 1]) : 0
                let b = y > 0 ? Int(rows[(y - 1) * rowBytes + x]) : 0
                let c = x >= 1 && y > 0 ? Int(rows[(y - 1) * rowBytes + x - 1]) : 0
                let predicted: Int
                switch filter {
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: predicted = 0
                }
                raw.append(UInt8(truncatingIfNeeded: Int(v) - predicted))
            }
        }
        var file = PNGImage.signature
        func chunk(_ type: String, _ data: [UInt8]) {
            let body = Array(type.utf8) + data
            file += bigEndian(UInt32(data.count)) + body
            let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            file += bigEndian(crc)
        }
        chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [UInt8(depth), 0, 0, 0, 0])
        chunk("IDAT", zlibCompress(raw))
        chunk("IEND", [])
        return file
    }

    private func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    private func zlibCompress(_ bytes: [UInt8]) -> [UInt8] {
        var size = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = out.withUnsafeMutableBufferPointer { o in
            bytes.withUnsafeBufferPointer { i in compress(o.baseAddress, &size, i.baseAddress, uLong(i.count)) }
        }
        precondition(status == Z_OK, "zlib compress failed (status \(status))")
        return Array(out[0..<Int(size)])
    }
}

import Foundation

/// The IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed.
///
/// An IDX file is a big-endian `UInt32` magic number `0x000008DD` (`08`: unsigned bytes,
/// `DD`: the number of dimensions), one big-endian `UInt32` per dimension, then the values
/// row-major. Image files are 3-D (`0x00000803`: count x rows x columns) and label files
/// 1-D (`0x00000801`).
public enum IDXFormat {
    /// Magic number of a 3-D unsigned-byte file: images.
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic number of a 1-D unsigned-byte file: labels.
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Images read from an IDX file, one byte per pixel.
    public struct Images: Sendable, Equatable {
        public var count: Int
        public var rows: Int
        public var columns: Int
        /// `count * rows * columns` bytes, image after image, row-major.
        public var pixels: [UInt8]

        public init(count: Int, rows: Int, columns: Int, pixels: [UInt8]) {
            self.count = count
            self.rows = rows
            self.columns = columns
            self.pixels = pixels
        }
    }

    // MARK: Reading

    /// Reads an image file (`0x00000803`), raw or gzip-compressed.
    public static func readImages(_ path: String) throws -> Images {
        let bytes = try DataFile.read(path)
        let (dimensions, offset) = try header(of: bytes, path: path, magic: imagesMagic)
        var pixels = bytes
        pixels.removeSubrange(0 ..< offset)
        return Images(count: dimensions[0], rows: dimensions[1], columns: dimensions[2], pixels: pixels)
    }

    /// Reads a label file (`0x00000801`), raw or gzip-compressed.
    public static func readLabels(_ path: String) throws -> [UInt8] {
        let bytes = try DataFile.read(path)
        let (_, offset) = try header(of: bytes, path: path, magic: labelsMagic)
        return Array(bytes[offset...])
    }

    /// Reads an images file and its labels file as one dataset of `[1, rows, columns]`
    /// samples whose pixel values are multiplied by `pixelScale` (`1 / 255` maps them
    /// onto `[0, 1]`).
    ///
    /// - Parameter classCount: the number of classes; by default one more than the largest
    ///   label present.
    public static func loadDataset(imagesPath: String, labelsPath: String, name: String,
                                   classCount: Int? = nil, pixelScale: Float = 1) throws -> Dataset {
        let labelBytes = try readLabels(labelsPath)
        let bytes = try DataFile.read(imagesPath)
        let (dimensions, offset) = try header(of: bytes, path: imagesPath, magic: imagesMagic)
        let (count, rows, columns) = (dimensions[0], dimensions[1], dimensions[2])
        guard count == labelBytes.count else {
            throw DatasetError.countMismatch(imagesPath: imagesPath, imageCount: count,
                                             labelsPath: labelsPath, labelCount: labelBytes.count)
        }
        guard count > 0 else { throw DatasetError.empty(path: imagesPath) }
        let largest = Int(labelBytes.max() ?? 0)
        let classes = classCount ?? largest + 1
        guard largest < classes else {
            throw DatasetError.invalidArgument(
                "\(labelsPath): label \(largest) does not fit \(classes) classes")
        }
        let valueCount = count * rows * columns
        let features = [Float](unsafeUninitializedCapacity: valueCount) { target, initialized in
            bytes.withUnsafeBufferPointer { source in
                let pixels = source.baseAddress! + offset
                let out = target.baseAddress!
                for i in 0 ..< valueCount { out[i] = Float(pixels[i]) * pixelScale }
            }
            initialized = valueCount
        }
        let labels = labelBytes.map { Int32($0) }
        return Dataset(validatedName: name, sampleShape: [1, rows, columns], features: features,
                       labels: labels, classCount: classes, classNames: nil)
    }

    // MARK: Writing

    /// Writes images as an IDX file, gzip-compressed when `compressed`.
    public static func write(_ images: Images, to path: String, compressed: Bool = false) throws {
        precondition(images.pixels.count == images.count * images.rows * images.columns,
                     "pixel count does not match \(images.count) x \(images.rows) x \(images.columns)")
        var bytes = bigEndian([imagesMagic, UInt32(images.count), UInt32(images.rows), UInt32(images.columns)])
        bytes += images.pixels
        try store(bytes, at: path, compressed: compressed)
    }

    /// Writes labels as an IDX file, gzip-compressed when `compressed`.
    public static func write(labels: [UInt8], to path: String, compressed: Bool = false) throws {
        var bytes = bigEndian([labelsMagic, UInt32(labels.count)])
        bytes += labels
        try store(bytes, at: path, compressed: compressed)
    }

    // MARK: Header

    /// Checks the magic number and that the payload the dimensions promise is all there;
    /// returns the dimensions and the payload's offset.
    static func header(of bytes: [UInt8], path: String, magic: UInt32) throws -> (dimensions: [Int], offset: Int) {
        guard bytes.count >= 4 else {
            throw DatasetError.truncated(path: path, detail: "\(bytes.count) bytes, too short for an IDX magic number")
        }
        let found = word(bytes, at: 0)
        guard found == magic else {
            throw DatasetError.wrongMagicNumber(path: path, found: found, expected: magic)
        }
        let rank = Int(magic & 0xFF)
        let offset = 4 + 4 * rank
        guard bytes.count >= offset else {
            throw DatasetError.truncated(
                path: path, detail: "\(bytes.count) bytes, too short for the \(rank) dimension sizes of the header")
        }
        let dimensions = (0 ..< rank).map { Int(word(bytes, at: 4 + 4 * $0)) }
        if rank > 1, dimensions.dropFirst().contains(0) {
            throw DatasetError.malformedHeader(path: path, detail: "dimensions \(dimensions) include a zero")
        }
        let expected = dimensions.reduce(1, *)
        let present = bytes.count - offset
        if present < expected {
            let shape = dimensions.map(String.init).joined(separator: " x ")
            throw DatasetError.truncated(
                path: path, detail: "the header promises \(shape) = \(expected) bytes of data but only \(present) follow")
        }
        if present > expected {
            throw DatasetError.malformedHeader(
                path: path, detail: "\(present - expected) bytes follow the \(expected) bytes the dimensions \(dimensions) describe")
        }
        return (dimensions, offset)
    }

    private static func word(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    private static func bigEndian(_ words: [UInt32]) -> [UInt8] {
        words.flatMap { [UInt8($0 >> 24), UInt8($0 >> 16 & 0xFF), UInt8($0 >> 8 & 0xFF), UInt8($0 & 0xFF)] }
    }

    private static func store(_ bytes: [UInt8], at path: String, compressed: Bool) throws {
        let data = Data(compressed ? Gzip.compress(bytes) : bytes)
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw DatasetError.unwritable(path: path, reason: error.localizedDescription)
        }
    }
}

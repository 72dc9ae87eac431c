import Foundation

/// Everything that can go wrong while loading, splitting or preparing a dataset.
///
/// Every case that concerns a file names that file, so a bad data directory ends with one
/// message that says which file to look at and what is wrong with it.
public enum DatasetError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The file or directory does not exist.
    case fileNotFound(path: String)
    /// The file exists but could not be read (permissions, a directory, an I/O error).
    case unreadable(path: String, reason: String)
    /// A file that could not be written.
    case unwritable(path: String, reason: String)
    /// An IDX file whose first four bytes are not the expected magic number.
    case wrongMagicNumber(path: String, found: UInt32, expected: UInt32)
    /// The file ends before the amount of data its header (or gzip stream) promises.
    case truncated(path: String, detail: String)
    /// A gzip stream that zlib rejects for a reason other than ending early.
    case corruptCompressedData(path: String, reason: String)
    /// An IDX header that is well-formed but not usable (unsupported type, bad dimensions).
    case malformedHeader(path: String, detail: String)
    /// The images and labels files describe different numbers of samples.
    case countMismatch(imagesPath: String, imageCount: Int, labelsPath: String, labelCount: Int)
    /// One row of a CSV file cannot be used; `line` counts from 1 as an editor shows it.
    case badCSVRow(path: String, line: Int, reason: String)
    /// A file that holds no samples at all.
    case empty(path: String)
    /// A dataset directory that holds none of the file names we look for.
    case missingDatasetFiles(directory: String, looked: [String])
    /// A dataset name that is neither a known name nor a readable path.
    case unknownDataset(name: String, known: [String])
    /// An argument outside its allowed range (a split fraction, a class count, a shape).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "\(path): no such file or directory"
        case let .unreadable(path, reason):
            return "\(path): cannot be read (\(reason))"
        case let .unwritable(path, reason):
            return "\(path): cannot be written (\(reason))"
        case let .wrongMagicNumber(path, found, expected):
            return "\(path): not an IDX file of the expected kind: magic number is \(Self.hex(found)), expected \(Self.hex(expected))"
        case let .truncated(path, detail):
            return "\(path): file is truncated: \(detail)"
        case let .corruptCompressedData(path, reason):
            return "\(path): corrupt gzip data (\(reason))"
        case let .malformedHeader(path, detail):
            return "\(path): malformed header: \(detail)"
        case let .countMismatch(imagesPath, imageCount, labelsPath, labelCount):
            return "\(labelsPath): holds \(labelCount) labels but \(imagesPath) holds \(imageCount) images; the two files must describe the same samples"
        case let .badCSVRow(path, line, reason):
            return "\(path):\(line): \(reason)"
        case let .empty(path):
            return "\(path): holds no samples"
        case let .missingDatasetFiles(directory, looked):
            return "\(directory): no dataset files found (looked for \(looked.joined(separator: ", ")))"
        case let .unknownDataset(name, known):
            return "unknown dataset '\(name)': expected one of \(known.joined(separator: ", ")), a CSV file or a directory of IDX files"
        case let .invalidArgument(message):
            return message
        }
    }

    public var errorDescription: String? { description }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}

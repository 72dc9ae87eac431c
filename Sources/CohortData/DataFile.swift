import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a data file whole, inflating it when it is gzip-compressed, with errors that
/// name the file.
enum DataFile {
    /// The file's bytes, decompressed if the file starts with the gzip magic.
    static func read(_ path: String) throws -> [UInt8] {
        let raw = try readRaw(path)
        guard Gzip.isCompressed(raw) else { return raw }
        return try raw.withUnsafeBytes { try Gzip.decompress($0, path: path) }
    }

    /// The file's bytes as stored.
    static func readRaw(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DatasetError.fileNotFound(path: path)
        }
        guard !isDirectory.boolValue else {
            throw DatasetError.unreadable(path: path, reason: "it is a directory")
        }
        guard let file = fopen(path, "rb") else {
            throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var status = stat()
        guard fstat(fileno(file), &status) == 0 else {
            throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        let size = Int(status.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        let read = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, file) }
        guard read == size else {
            let reason = ferror(file) != 0 ? String(cString: strerror(errno)) : "read \(read) of \(size) bytes"
            throw DatasetError.unreadable(path: path, reason: reason)
        }
        return bytes
    }

    /// Whether a regular file exists at `path`.
    static func exists(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// Whether a directory exists at `path`.
    static func directoryExists(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// `directory` and `name` joined with one slash.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

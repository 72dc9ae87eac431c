import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files a run keeps for people to read (programs' output, per-job results): appended
/// or replaced cheaply, without the fsyncs of ``AtomicFile``; the journal is the
/// durable record.
public enum LogFile {
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot write \(path): \(reason)" }
    }

    /// Appends `bytes` to a file (created if needed); returns the file's length after it.
    @discardableResult
    public static func append(_ bytes: [UInt8], to url: URL) throws -> UInt64 {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(path: url.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw WriteError(path: url.path, reason: String(cString: strerror(errno)))
        }
        return UInt64(Swift.max(0, lseek(fd, 0, SEEK_END)))
    }

    @discardableResult
    public static func append(_ text: String, to url: URL) throws -> UInt64 { try append(Array(text.utf8), to: url) }

    /// Replaces a file by renaming a fresh copy over it (readers see the old or the new
    /// one, never a part), without an fsync.
    public static func replace(_ url: URL, with text: String) throws {
        let temporary = url.path + ".new"
        unlink(temporary)
        try append(text, to: URL(fileURLWithPath: temporary))
        guard rename(temporary, url.path) == 0 else { throw WriteError(path: url.path, reason: String(cString: strerror(errno))) }
    }
}

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The directory of one run, whatever the workload: `config.yaml` (the config it
/// started with, byte for byte), `events.jsonl` (its journal), `checkpoints/`, the
/// workload's own result files, and `.lock`, held by the coordinator while it runs.
/// Every rank must see the directory (on a cluster: a shared filesystem).
public struct RunDirectory: Sendable {
    public let url: URL

    public init(_ url: URL) { self.url = url.standardizedFileURL }
    public init(path: String) { self.init(URL(fileURLWithPath: path)) }

    public var path: String { url.path }
    public var configURL: URL { file("config.yaml") }
    public var journalURL: URL { file("events.jsonl") }
    public var checkpointsURL: URL { file("checkpoints") }
    public var lockURL: URL { file(".lock") }

    /// A file of the run, by name.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    public var exists: Bool { FileManager.default.fileExists(atPath: url.path) }

    /// True when the directory exists and holds anything.
    public var isNonEmpty: Bool {
        !((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).isEmpty
    }

    /// True when the directory holds a run that can be resumed (a config and a journal).
    public var holdsRun: Bool {
        FileManager.default.fileExists(atPath: configURL.path) && FileManager.default.fileExists(atPath: journalURL.path)
    }

    // MARK: Creating and resuming

    /// Refuses a directory that already holds something, so a finished run is never
    /// overwritten. Call before anything is written. `resumable` says whether the
    /// message may point to `--resume` (a workload that cannot resume says not).
    public func requireFresh(resumable: Bool = true) throws {
        if isNonEmpty { throw resumable ? RunDirectoryError.exists(url.path) : RunDirectoryError.existsWithoutResume(url.path) }
    }

    /// Creates a new run directory (with `checkpoints/` unless the workload keeps
    /// none) holding the config copy and an empty journal, and returns its lock, held.
    ///
    /// Atomic: everything is made in a hidden sibling directory, locked there, and
    /// renamed into place, so the directory appears whole or not at all, and two runs
    /// started on one `--out` at once cannot both create it. A kill before the rename
    /// leaves only the hidden sibling, which the next create removes.
    public func create(configText: String, checkpoints: Bool = true) throws -> RunLock {
        try requireFresh()
        let fm = FileManager.default
        let parent = url.deletingLastPathComponent()
        let staging = parent.appendingPathComponent("\(stagingPrefix)\(getpid())")
        removeAbandonedStaging(in: parent)
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            try? fm.removeItem(at: staging)
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
            let stagingRun = RunDirectory(staging)
            let lock = try RunLock(url: stagingRun.lockURL, runPath: path)
            if checkpoints { try fm.createDirectory(at: stagingRun.checkpointsURL, withIntermediateDirectories: false) }
            try AtomicFile.write(configText, to: stagingRun.configURL)
            try AtomicFile.write(Data(), to: stagingRun.journalURL)
            // rename(2) onto an existing empty directory succeeds and onto a non-empty
            // one fails: the check and the creation are one step.
            if rename(staging.path, url.path) != 0 {
                let reason = errno == ENOTEMPTY || errno == EEXIST ? nil : String(cString: strerror(errno))
                try? fm.removeItem(at: staging)
                if let reason { throw RunDirectoryError.cannotCreate(path, reason) }
                throw RunDirectoryError.exists(path)
            }
            AtomicFile.syncDirectory(parent)
            return lock
        } catch let error as RunDirectoryError {
            throw error
        } catch {
            try? fm.removeItem(at: staging)
            throw RunDirectoryError.cannotCreate(path, "\(error)")
        }
    }

    /// `.NAME.creating-HOST-`, then the creating process's pid.
    private var stagingPrefix: String { ".\(url.lastPathComponent).creating-\(ProcessInfo.processInfo.hostName)-" }

    /// Removes staging directories of this run left by a process of this host that
    /// died while creating it (its pid no longer runs).
    private func removeAbandonedStaging(in parent: URL) {
        let prefix = stagingPrefix
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
        }
    }

    /// True when the journal holds no event yet: the run was created and died before
    /// its first line. Resuming such a run starts it.
    public var journalIsEmpty: Bool {
        ((try? FileManager.default.attributesOfItem(atPath: journalURL.path)[.size] as? NSNumber)?.intValue ?? 0) == 0
    }

    /// The config text of a run to resume; errors when the directory holds no run.
    public func configTextForResume() throws -> String {
        guard holdsRun else { throw RunDirectoryError.nothingToResume(url.path) }
        guard let data = FileManager.default.contents(atPath: configURL.path), let text = String(data: data, encoding: .utf8) else {
            throw RunDirectoryError.unreadable(url.path, "config.yaml cannot be read")
        }
        return text
    }

    /// The run directories directly under `folder` (those holding a config and a
    /// journal), by name.
    public static func list(under folder: URL) -> [RunDirectory] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().map { RunDirectory(folder.appendingPathComponent($0)) }.filter(\.holdsRun)
    }

    // MARK: One coordinator per run

    /// Takes the run's lock for as long as the returned value lives. A second
    /// coordinator on the same directory (a `--resume` while the run still goes on)
    /// is refused instead of interleaving two journals. The lock is an advisory
    /// `flock`, released by the kernel when the holder dies, so a killed run never
    /// leaves a stale lock.
    public func lock() throws -> RunLock {
        try RunLock(url: lockURL, runPath: url.path)
    }
}

/// The lock a run's coordinator holds; released when it is deinitialised.
public final class RunLock {
    private let fd: Int32

    init(url: URL, runPath: String) throws {
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RunDirectoryError.cannotCreate(runPath, "cannot open its lock file") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            var holder = [UInt8](repeating: 0, count: 256)
            let n = read(fd, &holder, holder.count)
            close(fd)
            let who = n > 0 ? String(decoding: holder[0 ..< n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "another process"
            throw RunDirectoryError.inUse(runPath, who)
        }
        let me = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName)\n"
        _ = ftruncate(fd, 0)
        _ = me.withCString { write(fd, $0, strlen($0)) }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// Why a run directory cannot be used; one readable line each.
public enum RunDirectoryError: Error, Equatable, CustomStringConvertible {
    case exists(String)
    case existsWithoutResume(String)
    case nothingToResume(String)
    case cannotCreate(String, String)
    case unreadable(String, String)
    case inUse(String, String)

    public var description: String {
        switch self {
        case let .exists(p): return "run directory \(p) already exists; use --resume to continue it, or choose another --out"
        case let .existsWithoutResume(p): return "run directory \(p) already exists; choose another --out"
        case let .nothingToResume(p): return "run directory \(p) cannot be resumed: no config.yaml and events.jsonl there"
        case let .cannotCreate(p, why): return "cannot create the run directory \(p): \(why)"
        case let .unreadable(p, why): return "run directory \(p): \(why)"
        case let .inUse(p, who): return "run directory \(p) is in use by another coordinator (\(who)); wait for it to end or stop it first"
        }
    }
}

import CohortFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a stage's output came from in one job.
public enum StageSource: Int, Sendable {
    case computed = 0, memory = 1, disk = 2

    public var name: String { ["computed", "memory", "disk"][rawValue] }
}

/// A worker's own cache of stage outputs, in memory, bounded in bytes. One per
/// process, shared by the jobs (and in-process workers) it runs.
public final class MemoryStageCache: @unchecked Sendable {
    public let capacity: Int
    public let policy: CachePolicy
    private let lock = NSLock()
    private var entries: [String: (features: FeatureSet, stats: CachePolicy.Entry)] = [:]
    private var clock = 0.0

    public init(capacity: Int, policy: CachePolicy) {
        self.capacity = capacity
        self.policy = policy
    }

    public func get(_ key: String) -> (features: FeatureSet, cost: Double)? {
        lock.lock()
        defer { lock.unlock() }
        guard var e = entries[key] else { return nil }
        clock += 1
        e.stats.hits += 1
        e.stats.lastUse = clock
        entries[key] = e
        return (e.features, e.stats.cost)
    }

    public func put(_ key: String, _ features: FeatureSet, cost: Double) {
        lock.lock()
        defer { lock.unlock() }
        guard entries[key] == nil,
              let victims = policy.evictions(from: entries.values.map(\.stats), toFit: features.bytes, capacity: capacity) else { return }
        for v in victims { entries[v.key] = nil }
        clock += 1
        entries[key] = (features, .init(key: key, bytes: features.bytes, cost: cost, lastUse: clock))
    }

    public var bytesHeld: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.values.reduce(0) { $0 + $1.stats.bytes }
    }

    public var keys: [String] {
        lock.lock()
        defer { lock.unlock() }
        return entries.keys.sorted()
    }
}

/// The cache the workers share: one file per stage output in the run directory
/// (`cache/<key>.features`, written whole and renamed into place), bounded in bytes,
/// with each entry's uses beside it (`<key>.use`) for the eviction policy.
///
/// A file that is missing, unreadable or not the entry it is named for is a miss: the
/// stage is recomputed, never failed. Two workers may evict at once and drop an
/// entry one of them still wanted; that costs a recomputation, nothing else.
///
/// A worker about to compute an output first claims it (`<key>.claim`, created
/// exclusively); another worker that misses the same output meanwhile waits for the
/// file instead of computing it twice. A claim whose process is gone (same host) or
/// that is older than ``claimLimit`` is stale and ignored.
public struct DiskStageCache: Sendable {
    public let directory: URL
    public let capacity: Int
    public let policy: CachePolicy

    public init(directory: URL, capacity: Int, policy: CachePolicy) {
        self.directory = directory
        self.capacity = capacity
        self.policy = policy
    }

    func file(_ key: String) -> URL { directory.appendingPathComponent("\(key).features") }
    func claimFile(_ key: String) -> URL { directory.appendingPathComponent("\(key).claim") }

    /// Seconds after which another worker's claim is no longer waited for.
    public static let claimLimit = 600.0

    /// Claims `key` for this process: true when this process should compute it (the
    /// claim is taken, or cannot be: no cache). False when a live claim of another
    /// process exists.
    public func claim(_ key: String) -> Bool {
        guard capacity > 0 else { return true }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for _ in 0..<2 {
            let fd = open(claimFile(key).path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 {
                let text = "\(Self.hostName) \(getpid()) \(Date().timeIntervalSince1970)\n"
                _ = text.withCString { write(fd, $0, strlen($0)) }
                close(fd)
                return true
            }
            guard errno == EEXIST else { return true }
            if !claimIsStale(key) { return false }
            unlink(claimFile(key).path)
        }
        return true
    }

    /// This machine's name (gethostname: no lookup), which a claim records.
    static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(cString: buffer)
    }()

    /// Gives up this process's claim on `key`.
    public func release(_ key: String) { unlink(claimFile(key).path) }

    /// Waits while another process holds a live claim on `key`; then the entry, if it
    /// was stored.
    public func awaitClaimed(_ key: String) -> (features: FeatureSet, cost: Double)? {
        var pause: useconds_t = 2_000
        while FileManager.default.fileExists(atPath: claimFile(key).path), !claimIsStale(key) {
            usleep(pause)
            pause = min(100_000, pause * 2)
        }
        return get(key)
    }

    /// A claim left by a process that is gone, unreadable, or older than the limit.
    func claimIsStale(_ key: String) -> Bool {
        guard let text = try? String(contentsOf: claimFile(key), encoding: .utf8) else { return true }
        let parts = text.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        guard parts.count == 3, let pid = Int32(parts[1]), let since = Double(parts[2]) else {
            // Being written this instant, or damaged: stale only once old.
            let modified = (try? FileManager.default.attributesOfItem(atPath: claimFile(key).path)[.modificationDate] as? Date) ?? nil
            return Date().timeIntervalSince(modified ?? .distantPast) > 5
        }
        if Date().timeIntervalSince1970 - since > Self.claimLimit { return true }
        if parts[0] == Self.hostName, kill(pid, 0) != 0, errno == ESRCH { return true }
        return false
    }
    func useFile(_ key: String) -> URL { directory.appendingPathComponent("\(key).use") }

    public func get(_ key: String) -> (features: FeatureSet, cost: Double)? {
        guard capacity > 0, let found = FeatureSet.read(path: file(key).path, key: key) else { return nil }
        let hits = (readUse(key)?.hits ?? 0) + 1
        try? AtomicFile.write(Data("\(hits) \(Date().timeIntervalSince1970)\n".utf8), to: useFile(key), durable: false)
        return found
    }

    public func put(_ key: String, _ features: FeatureSet, cost: Double) throws {
        guard capacity > 0 else { return }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let bytes = features.bytes
        guard let victims = policy.evictions(from: entries().filter { $0.key != key }, toFit: bytes, capacity: capacity) else { return }
        for v in victims {
            try? FileManager.default.removeItem(at: file(v.key))
            try? FileManager.default.removeItem(at: useFile(v.key))
        }
        try AtomicFile.write(features.encoded(key: key, cost: cost), to: file(key), durable: false)
        try? AtomicFile.write(Data("0 \(Date().timeIntervalSince1970)\n".utf8), to: useFile(key), durable: false)
    }

    /// The entries on disk with what the policy needs (cost from each file's header).
    public func entries() -> [CachePolicy.Entry] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.filter { $0.hasSuffix(".features") && !$0.hasPrefix(".") }.sorted().compactMap { name in
            let key = String(name.dropLast(".features".count))
            let url = file(key)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
                  let size = (attributes[.size] as? NSNumber)?.intValue else { return nil }
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let use = readUse(key)
            return CachePolicy.Entry(key: key, bytes: size, cost: headerCost(url) ?? 0, hits: use?.hits ?? 0,
                                     lastUse: use?.lastUse ?? modified)
        }
    }

    private func readUse(_ key: String) -> (hits: Int, lastUse: Double)? {
        guard let text = try? String(contentsOf: useFile(key), encoding: .utf8) else { return nil }
        let parts = text.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        guard parts.count == 2, let h = Int(parts[0]), let t = Double(parts[1]) else { return nil }
        return (h, t)
    }

    private func headerCost(_ url: URL) -> Double? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        let offset = FeatureSet.magic.count + 64
        guard let head = try? handle.read(upToCount: offset + 8), head.count == offset + 8 else { return nil }
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(head[head.startIndex + offset + i]) << (8 * UInt64(i)) }
        let cost = Double(bitPattern: bits)
        return cost.isFinite ? cost : nil
    }
}

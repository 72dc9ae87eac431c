import CohortFiles
import Foundation

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
    func useFile(_ key: String) -> URL { directory.appendingPathComponent("\(key).use") }

    public func get(_ key: String) -> (features: FeatureSet, cost: Double)? {
        guard capacity > 0, let data = try? Data(contentsOf: file(key), options: .alwaysMapped),
              let found = FeatureSet.decode(data, key: key) else { return nil }
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

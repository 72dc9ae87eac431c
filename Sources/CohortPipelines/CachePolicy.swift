import Foundation

/// Which entry a full cache drops to make room.
public enum CachePolicy: String, CaseIterable, Sendable {
    /// The least recently used.
    case lru
    /// The least often used (ties: the least recently used).
    case lfu
    /// The lowest recompute cost x expected reuse / size, where the expected reuse is
    /// the uses so far plus one: cheap, rarely used, large entries go first.
    case cost

    /// What a policy knows of an entry.
    public struct Entry: Equatable, Sendable {
        public var key: String
        public var bytes: Int
        /// Seconds it took to compute (from its inputs).
        public var cost: Double
        /// Times it was found in the cache.
        public var hits: Int
        /// When it was last stored or found (any increasing clock).
        public var lastUse: Double

        public init(key: String, bytes: Int, cost: Double, hits: Int = 0, lastUse: Double) {
            self.key = key
            self.bytes = bytes
            self.cost = cost
            self.hits = hits
            self.lastUse = lastUse
        }
    }

    /// The entry to evict first; ties fall to the key, so the choice is deterministic.
    public func victim(among entries: [Entry]) -> Entry? {
        entries.min { a, b in
            switch self {
            case .lru:
                if a.lastUse != b.lastUse { return a.lastUse < b.lastUse }
            case .lfu:
                if a.hits != b.hits { return a.hits < b.hits }
                if a.lastUse != b.lastUse { return a.lastUse < b.lastUse }
            case .cost:
                let sa = Self.value(a), sb = Self.value(b)
                if sa != sb { return sa < sb }
                if a.lastUse != b.lastUse { return a.lastUse < b.lastUse }
            }
            return a.key < b.key
        }
    }

    static func value(_ e: Entry) -> Double { e.cost * Double(e.hits + 1) / Double(max(1, e.bytes)) }

    /// The entries to evict, in order, so that `incoming` more bytes fit in `capacity`
    /// (`nil` when the incoming entry is larger than the whole capacity: not stored).
    public func evictions(from entries: [Entry], toFit incoming: Int, capacity: Int) -> [Entry]? {
        guard incoming <= capacity else { return nil }
        var left = entries
        var used = entries.reduce(0) { $0 + $1.bytes }
        var out: [Entry] = []
        while used + incoming > capacity, let v = victim(among: left) {
            left.removeAll { $0.key == v.key }
            used -= v.bytes
            out.append(v)
        }
        return out
    }
}

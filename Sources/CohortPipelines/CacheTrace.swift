import CohortTune
import Foundation

/// The stage outputs a pipeline search asked for, in order, read back from its
/// journal: what the caching policies are replayed on and what the integer program
/// of the optimum is written from.
///
/// Each job asks for its chain's deepest output; getting it costs the compute time
/// of every stage from the deepest one cached down to it. Items are the distinct
/// stage outputs (key, compute seconds, bytes, the item above it).
public struct CacheTrace: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var key: String
        public var stage: String
        public var cost: Double
        public var bytes: Int
        /// The index of the item this one is computed from (`nil` at the chain's root).
        public var parent: Int?
    }

    public var items: [Item]
    /// Per job, in journal order: the index of the deepest item it asked for.
    public var requests: [Int]

    public init(items: [Item], requests: [Int]) {
        self.items = items
        self.requests = requests
    }

    /// The trace of a run's `result` events; `stages` is the chain's order
    /// (`trainable.stages`).
    public static func read(_ events: [JournalEvent], stages: [String]) -> CacheTrace {
        var items: [Item] = []
        var index: [String: Int] = [:]
        var requests: [Int] = []
        for event in events {
            guard case let .result(f) = event else { continue }
            var previous: Int?
            var deepest: Int?
            for stage in stages {
                let m = f.metrics
                guard let rawKey = m["pipeline.\(stage).key"], let cost = m["pipeline.\(stage).cost"],
                      let bytes = m["pipeline.\(stage).bytes"], rawKey >= 0, rawKey < 0x1p52, bytes >= 0, bytes < 1e15 else {
                    previous = nil
                    continue
                }
                let key = StableHash.key(UInt64(rawKey))
                let i: Int
                if let known = index[key] {
                    i = known
                    if items[i].parent == nil, let previous, previous != i { items[i].parent = previous }
                    // A computed record measures the cost; hits only repeat it.
                    if m["pipeline.\(stage).source"] == 0 { items[i].cost = cost }
                } else {
                    i = items.count
                    index[key] = i
                    items.append(Item(key: key, stage: stage, cost: max(0, cost), bytes: Int(bytes), parent: previous))
                }
                previous = i
                deepest = i
            }
            if let deepest { requests.append(deepest) }
        }
        return CacheTrace(items: items, requests: requests)
    }

    /// The first `count` requests and the items they reach.
    public func prefix(_ count: Int) -> CacheTrace {
        CacheTrace(items: items, requests: Array(requests.prefix(count)))
    }

    /// Items from `deepest` up to the root.
    func path(_ deepest: Int) -> [Int] {
        var out: [Int] = []
        var at: Int? = deepest
        while let i = at, !out.contains(i) {
            out.append(i)
            at = items[i].parent
        }
        return out
    }

    // MARK: Replay

    public struct Outcome: Equatable, Sendable {
        /// Seconds of stage computation the requests cost.
        public var recomputeSeconds: Double
        public var hits: Int
        public var computations: Int
    }

    /// Cost with no cache: every request computes its whole chain.
    public var uncachedSeconds: Double { requests.reduce(0) { $0 + path($1).reduce(0) { $0 + items[$1].cost } } }

    /// Cost with an unbounded cache: every item computed once.
    public var unboundedSeconds: Double {
        Set(requests.flatMap(path)).reduce(0) { $0 + items[$1].cost }
    }

    /// Replays the requests through one cache of `capacity` bytes under `policy`.
    public func replay(policy: CachePolicy, capacity: Int) -> Outcome {
        var held: [String: CachePolicy.Entry] = [:]     // by key
        var clock = 0.0
        var outcome = Outcome(recomputeSeconds: 0, hits: 0, computations: 0)
        for r in requests {
            var missing: [Item] = []
            for item in path(r).map({ items[$0] }) {
                if held[item.key] != nil {
                    clock += 1
                    held[item.key]?.hits += 1
                    held[item.key]?.lastUse = clock
                    outcome.hits += 1
                    break
                }
                missing.append(item)
            }
            for item in missing.reversed() {
                outcome.recomputeSeconds += item.cost
                outcome.computations += 1
                guard let victims = policy.evictions(from: Array(held.values), toFit: item.bytes, capacity: capacity) else { continue }
                for v in victims { held[v.key] = nil }
                clock += 1
                held[item.key] = CachePolicy.Entry(key: item.key, bytes: item.bytes, cost: item.cost, lastUse: clock)
            }
        }
        return outcome
    }

    // MARK: The optimum as an integer program

    /// The minimum recompute cost under `capacity` as a 0-1 program in CPLEX LP format
    /// (for `glpsol --lp`). x_i_t: item i is cached after request t; c_i_t: request t
    /// computes item i. Request t needs its deepest item computed unless cached, and an
    /// item above a computed one computed unless cached; an item can be cached after
    /// t only if it was before or t computed it; the cached bytes never exceed the
    /// capacity. Sizes are in kilobytes, costs in milliseconds.
    public func integerProgram(capacity: Int) -> String {
        var objective: [String] = []
        var constraints: [String] = []
        var binaries: [String] = []
        var seen = Set<Int>()
        var previous = Set<Int>()          // items with an x variable at t - 1
        func x(_ i: Int, _ t: Int) -> String { "x_\(i)_\(t)" }
        func c(_ i: Int, _ t: Int) -> String { "c_\(i)_\(t)" }
        for (t, r) in requests.enumerated() {
            let p = path(r)
            for i in p {
                let name = c(i, t)
                binaries.append(name)
                objective.append(String(format: "%.3f %@", items[i].cost * 1000, name))
            }
            for (j, i) in p.enumerated() {
                var terms = "\(c(i, t))"
                if previous.contains(i) { terms += " + \(x(i, t - 1))" }
                if j == 0 {
                    constraints.append("need_\(t)_\(i): \(terms) >= 1")
                } else {
                    constraints.append("need_\(t)_\(i): \(terms) - \(c(p[j - 1], t)) >= 0")
                }
            }
            seen.formUnion(p)
            var capacityTerms: [String] = []
            for i in seen.sorted() {
                let name = x(i, t)
                binaries.append(name)
                var terms = name
                if previous.contains(i) { terms += " - \(x(i, t - 1))" }
                if p.contains(i) { terms += " - \(c(i, t))" }
                constraints.append("keep_\(t)_\(i): \(terms) <= 0")
                capacityTerms.append(String(format: "%.3f %@", Double(items[i].bytes) / 1000, name))
            }
            constraints.append("capacity_\(t): " + capacityTerms.joined(separator: " + ") + String(format: " <= %.3f", Double(capacity) / 1000))
            previous = seen
        }
        var lines = ["\\ minimum recompute cost of \(requests.count) requests at capacity \(capacity) bytes", "Minimize"]
        lines.append(" cost: " + (objective.isEmpty ? "0 dummy" : objective.joined(separator: " + ")))
        lines.append("Subject To")
        lines += constraints.map { " " + $0 }
        if objective.isEmpty { lines.append(" none: dummy = 0") }
        lines.append("Binary")
        lines += binaries.map { " " + $0 }
        lines.append("End")
        return lines.joined(separator: "\n") + "\n"
    }
}

import Foundation

/// The results of one rung, kept best first, stored in blocks so that a rung of a
/// hundred thousand results takes a new one by moving a few hundred records rather
/// than all of them, and finds a record's rank by two binary searches. A simulated
/// cluster of hundreds of workers fills rungs that large in seconds; a flat sorted
/// array made such runs quadratic.
///
/// It reads as an ordinary collection: `count`, `first`, `prefix(n)`, `map`, and
/// `rung[i]` for the i-th best.
public struct RungResults: RandomAccessCollection, Sendable {
    public let mode: MetricMode
    private var blocks: [[RungRecord]] = []
    /// The index of each block's first record.
    private var starts: [Int] = []
    public private(set) var count = 0

    /// Blocks split in two when they pass twice this size.
    static let blockSize = 256

    public init(mode: MetricMode) { self.mode = mode }

    // MARK: Order

    /// True when `a` ranks ahead of `b`: better metric first, failures last, ties by
    /// smaller trial id, so the order is total and every decision deterministic.
    public func ranksAhead(_ a: RungRecord, of b: RungRecord) -> Bool {
        switch (a.metric, b.metric) {
        case let (x?, y?):
            if x != y { return mode.isBetter(x, than: y) }
            return a.trial < b.trial
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return a.trial < b.trial
        }
    }

    // MARK: Collection

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(i: Int) -> RungRecord {
        let (b, j) = locate(i)
        return blocks[b][j]
    }

    /// Block and offset of index `i`.
    private func locate(_ i: Int) -> (Int, Int) {
        precondition(i >= 0 && i < count, "rung index \(i) out of range 0..<\(count)")
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= i { lo = mid } else { hi = mid - 1 }
        }
        return (lo, i - starts[lo])
    }

    /// The block where `record` belongs and its offset there: the number of records
    /// ranking ahead of it is `starts[block] + offset`.
    private func position(of record: RungRecord) -> (block: Int, offset: Int) {
        guard !blocks.isEmpty else { return (0, 0) }
        // The first block whose last record does not rank ahead of `record`.
        var lo = 0, hi = blocks.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranksAhead(blocks[mid][blocks[mid].count - 1], of: record) { lo = mid + 1 } else { hi = mid }
        }
        let block = blocks[lo]
        var a = 0, b = block.count
        while a < b {
            let mid = (a + b) / 2
            if ranksAhead(block[mid], of: record) { a = mid + 1 } else { b = mid }
        }
        return (lo, a)
    }

    /// How many records rank ahead of `record`: its index when it is in the rung.
    public func rank(of record: RungRecord) -> Int {
        guard !blocks.isEmpty else { return 0 }
        let (b, j) = position(of: record)
        return starts[b] + j
    }

    // MARK: Changes

    public mutating func insert(_ record: RungRecord) {
        if blocks.isEmpty {
            blocks = [[record]]
            starts = [0]
            count = 1
            return
        }
        let (b, j) = position(of: record)
        blocks[b].insert(record, at: j)
        count += 1
        if blocks[b].count > 2 * Self.blockSize {
            let tail = Array(blocks[b][Self.blockSize...])
            blocks[b].removeSubrange(Self.blockSize...)
            blocks.insert(tail, at: b + 1)
            starts.insert(0, at: b + 1)
        }
        for k in (b + 1)..<blocks.count { starts[k] = starts[k - 1] + blocks[k - 1].count }
    }

    /// Removes the record at index `i`.
    public mutating func remove(at i: Int) {
        let (b, j) = locate(i)
        blocks[b].remove(at: j)
        count -= 1
        if blocks[b].isEmpty {
            blocks.remove(at: b)
            starts.remove(at: b)
            if !starts.isEmpty { starts[0] = 0 }
        }
        for k in Swift.max(1, b)..<Swift.max(1, blocks.count) { starts[k] = starts[k - 1] + blocks[k - 1].count }
    }

    /// Marks the record at index `i` promoted.
    public mutating func setPromoted(at i: Int) {
        let (b, j) = locate(i)
        blocks[b][j].promoted = true
    }
}

extension RungResults: Equatable {
    /// Equal contents in equal order, however they are split into blocks.
    public static func == (a: RungResults, b: RungResults) -> Bool {
        a.mode == b.mode && a.count == b.count && a.elementsEqual(b)
    }
}

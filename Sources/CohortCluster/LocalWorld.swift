import Foundation

/// The state the threads of one ``LocalCommunicator`` group share: a mailbox per rank
/// and a rendezvous for collectives, under one condition variable.
final class LocalWorld: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var mailboxes: [[Envelope]]
    private var abortReason: String?

    // Collective rendezvous: contributions of the current generation, and finished
    // generations kept until every rank has read them.
    private var generation = 0
    private var arrived = 0
    private var contributions: [[UInt8]]
    private var finished: [Int: (parts: [[UInt8]], readersLeft: Int)] = [:]
    private var subworlds: [Int: [Int: LocalWorld]] = [:]

    init(size: Int) {
        self.size = size
        mailboxes = Array(repeating: [], count: size)
        contributions = Array(repeating: [], count: size)
    }

    /// Releases every waiting rank with an error; used when one rank fails.
    func abort(reason: String) {
        condition.lock()
        if abortReason == nil { abortReason = reason }
        let children = subworlds.values.flatMap { $0.values }
        condition.broadcast()
        condition.unlock()
        for child in children { child.abort(reason: reason) }
    }

    // MARK: Mailboxes

    func post(_ envelope: Envelope, to destination: Int) {
        condition.lock()
        mailboxes[destination].append(envelope)
        condition.broadcast()
        condition.unlock()
    }

    /// The earliest message for `rank` matching the filters, optionally waiting for one.
    func peek(at rank: Int, source: Int?, tag: Int?, wait: Bool) throws -> MessageInfo? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let e = mailboxes[rank].first(where: { matches($0, source, tag) }) {
                return MessageInfo(source: e.source, tag: e.tag, byteCount: e.bytes.count)
            }
            // A rank that polls (a coordinator) learns of another rank's failure too.
            if let abortReason { throw CommunicatorError.aborted(abortReason) }
            guard wait else { return nil }
            try waitLocked()
        }
    }

    /// Removes and returns the earliest message from `source` with `tag`, waiting for it.
    func take(at rank: Int, source: Int, tag: Int, capacity: Int) throws -> Envelope {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let i = mailboxes[rank].firstIndex(where: { matches($0, source, tag) }) {
                let e = mailboxes[rank][i]
                guard e.bytes.count <= capacity else {
                    throw CommunicatorError.truncated(expected: e.bytes.count, capacity: capacity)
                }
                mailboxes[rank].remove(at: i)
                return e
            }
            try waitLocked()
        }
    }

    private func matches(_ e: Envelope, _ source: Int?, _ tag: Int?) -> Bool {
        (source == nil || e.source == source) && (tag == nil || e.tag == tag)
    }

    // MARK: Collectives

    /// Every rank contributes bytes; when all have, every rank gets all contributions in
    /// rank order, plus the generation number that names this collective.
    func exchange(_ bytes: [UInt8], rank: Int) throws -> (parts: [[UInt8]], generation: Int) {
        condition.lock()
        defer { condition.unlock() }
        if let abortReason { throw CommunicatorError.aborted(abortReason) }
        let mine = generation
        contributions[rank] = bytes
        arrived += 1
        if arrived == size {
            finished[mine] = (contributions, size)
            contributions = Array(repeating: [], count: size)
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { try waitLocked() }
        }
        var entry = finished[mine]!
        entry.readersLeft -= 1
        finished[mine] = entry.readersLeft == 0 ? nil : entry
        return (entry.parts, mine)
    }

    /// The shared world of the ranks that chose `color` in the split at `generation`.
    func subworld(generation: Int, color: Int, size: Int) -> LocalWorld {
        condition.lock()
        defer { condition.unlock() }
        if let w = subworlds[generation]?[color] { return w }
        let w = LocalWorld(size: size)
        subworlds[generation, default: [:]][color] = w
        return w
    }

    private func waitLocked() throws {
        if let abortReason { throw CommunicatorError.aborted(abortReason) }
        condition.wait()
        if let abortReason { throw CommunicatorError.aborted(abortReason) }
    }
}

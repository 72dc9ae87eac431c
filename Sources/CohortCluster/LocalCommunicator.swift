import Foundation

/// A ``Communicator`` whose ranks are threads of this process.
///
/// It exists for unit tests and for running a job farm without `mpirun`
/// (`--workers K`). It passes the same conformance suite as ``MPICommunicator``.
/// Waiting is a condition-variable wait, so idle ranks use no CPU. Sends are buffered:
/// they return as soon as the message is in the receiver's mailbox.
///
/// Collectives reduce contributions in rank order on every rank, so all ranks get the
/// same bits.
public final class LocalCommunicator: Communicator {
    public let rank: Int
    public var size: Int { world.size }
    private let world: LocalWorld

    init(world: LocalWorld, rank: Int) {
        self.world = world
        self.rank = rank
    }

    /// A group of one, used when a command runs without `mpirun`.
    public static func single() -> LocalCommunicator { LocalCommunicator(world: LocalWorld(size: 1), rank: 0) }

    /// Runs `body` once per rank, each on its own thread, and returns the results in rank
    /// order. If a rank throws, the others are released from any wait with
    /// ``CommunicatorError/aborted(_:)`` and the first rank's own error is rethrown.
    public static func map<T>(ranks: Int, _ body: @escaping @Sendable (Communicator) throws -> T) throws -> [T] {
        precondition(ranks > 0, "a communicator needs at least one rank")
        let world = LocalWorld(size: ranks)
        let outcomes = OutcomeBox<T>(count: ranks)
        let group = DispatchGroup()
        for r in 0..<ranks {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                do {
                    outcomes.set(r, .success(try body(LocalCommunicator(world: world, rank: r))))
                } catch {
                    outcomes.set(r, .failure(error))
                    world.abort(reason: "rank \(r) failed: \(error)")
                }
            }
            thread.stackSize = 16 << 20
            thread.name = "cohort-rank-\(r)"
            thread.start()
        }
        group.wait()
        return try outcomes.values()
    }

    /// Runs `body` once per rank on its own thread; see ``map(ranks:_:)``.
    public static func run(ranks: Int, _ body: @escaping @Sendable (Communicator) throws -> Void) throws {
        _ = try map(ranks: ranks, body)
    }

    public func barrier() throws { _ = try world.exchange([], rank: rank) }

    // MARK: Point to point

    public func sendBytes(_ bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int) throws {
        try validate(peer: destination)
        try validate(tag: tag)
        world.post(Envelope(source: rank, tag: tag, bytes: Array(bytes)), to: destination)
    }

    public func isendBytes(_ bytes: [UInt8], to destination: Int, tag: Int) throws -> PendingRequest {
        try validate(peer: destination)
        try validate(tag: tag)
        world.post(Envelope(source: rank, tag: tag, bytes: bytes), to: destination)
        return CompletedRequest()
    }

    public func probe(from source: Int?, tag: Int?) throws -> MessageInfo {
        if let source { try validate(peer: source) }
        return try world.peek(at: rank, source: source, tag: tag, wait: true)!
    }

    public func iprobe(from source: Int?, tag: Int?) throws -> MessageInfo? {
        if let source { try validate(peer: source) }
        return try world.peek(at: rank, source: source, tag: tag, wait: false)
    }

    public func receiveBytes(into buffer: UnsafeMutableRawBufferPointer, from source: Int, tag: Int) throws -> MessageInfo {
        try validate(peer: source)
        let envelope = try world.take(at: rank, source: source, tag: tag, capacity: buffer.count)
        envelope.bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        return MessageInfo(source: envelope.source, tag: envelope.tag, byteCount: envelope.bytes.count)
    }

    // MARK: Collectives

    public func allreduceBytes(_ input: UnsafeRawPointer?, _ result: UnsafeMutableRawPointer,
                               count: Int, type: ScalarType, op: ReductionOp) throws {
        try reduceLocally(input, result, count: count, type: type, op: op, deliver: true)
    }

    public func reduceBytes(_ input: UnsafeRawPointer?, _ result: UnsafeMutableRawPointer,
                            count: Int, type: ScalarType, op: ReductionOp, root: Int) throws {
        try validate(peer: root)
        try reduceLocally(input, result, count: count, type: type, op: op, deliver: rank == root)
    }

    public func broadcastBytes(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        try validate(peer: root)
        let parts = try world.exchange(rank == root ? Array(UnsafeRawBufferPointer(buffer)) : [], rank: rank).parts
        guard rank != root else { return }
        guard parts[root].count == buffer.count else {
            throw CommunicatorError.sizeMismatch("broadcast of \(parts[root].count) bytes from rank \(root) into a buffer of \(buffer.count) bytes")
        }
        parts[root].withUnsafeBytes { buffer.copyMemory(from: $0) }
    }

    public func gatherBytes(_ bytes: UnsafeRawBufferPointer, root: Int?) throws -> [[UInt8]] {
        if let root { try validate(peer: root) }
        let parts = try world.exchange(Array(bytes), rank: rank).parts
        return root == nil || root == rank ? parts : []
    }

    public func split(color: Int?, key: Int) throws -> Communicator? {
        let mine: [Int64] = [color.map(Int64.init) ?? Int64.min, Int64(key)]
        let (parts, generation) = try mine.withUnsafeBytes { try world.exchange(Array($0), rank: rank) }
        guard let color else { return nil }
        let entries = parts.map { $0.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) } }
        let members = (0..<size).filter { entries[$0][0] == Int64(color) }
            .sorted { (entries[$0][1], $0) < (entries[$1][1], $1) }
        let sub = world.subworld(generation: generation, color: color, size: members.count)
        return LocalCommunicator(world: sub, rank: members.firstIndex(of: rank)!)
    }

    // MARK: Helpers

    private func reduceLocally(_ input: UnsafeRawPointer?, _ result: UnsafeMutableRawPointer,
                               count: Int, type: ScalarType, op: ReductionOp, deliver: Bool) throws {
        if op == .mean && !(type == .float32 || type == .float64) {
            throw CommunicatorError.unsupported("mean reduction of integer type \(type)")
        }
        let bytes = count * type.stride
        let mine = Array(UnsafeRawBufferPointer(start: input ?? UnsafeRawPointer(result), count: bytes))
        let parts = try world.exchange(mine, rank: rank).parts
        for (r, part) in parts.enumerated() where part.count != bytes {
            throw CommunicatorError.sizeMismatch("rank \(r) reduced \(part.count / type.stride) elements, rank \(rank) \(count)")
        }
        guard deliver else { return }
        var acc = parts[0]
        acc.withUnsafeMutableBytes { a in
            for part in parts.dropFirst() {
                part.withUnsafeBytes { ScalarArithmetic.combine(a.baseAddress!, $0.baseAddress!, count: count, type: type, op: op) }
            }
        }
        acc.withUnsafeBytes { result.copyMemory(from: $0.baseAddress!, byteCount: bytes) }
        if op == .mean { try ScalarArithmetic.divide(result, count: count, type: type, by: size) }
    }

    private func validate(peer: Int) throws {
        guard (0..<size).contains(peer) else { throw CommunicatorError.invalidRank(peer, size: size) }
    }

    private func validate(tag: Int) throws {
        guard (0...32_767).contains(tag) else { throw CommunicatorError.invalidTag(tag) }
    }
}

/// A message waiting in a mailbox.
struct Envelope {
    var source: Int
    var tag: Int
    var bytes: [UInt8]
}

/// Non-blocking sends of the local backend complete at once (they are buffered).
final class CompletedRequest: PendingRequest {
    func test() throws -> Bool { true }
    func wait() throws {}
}

/// Collects one outcome per rank from many threads.
private final class OutcomeBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var outcomes: [Result<T, Error>?]

    init(count: Int) { outcomes = Array(repeating: nil, count: count) }

    func set(_ rank: Int, _ outcome: Result<T, Error>) {
        lock.lock(); outcomes[rank] = outcome; lock.unlock()
    }

    /// The values in rank order, or the first error that is not just another rank's abort.
    func values() throws -> [T] {
        lock.lock(); defer { lock.unlock() }
        let failures = outcomes.compactMap { outcome -> Error? in
            if case .failure(let e)? = outcome { return e } else { return nil }
        }
        if let first = failures.first(where: { if case CommunicatorError.aborted = $0 { return false } else { return true } }) ?? failures.first {
            throw first
        }
        return outcomes.map { try! $0!.get() }
    }
}

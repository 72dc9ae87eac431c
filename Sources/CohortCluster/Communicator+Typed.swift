import Foundation

// MARK: Typed point to point

extension Communicator {
    /// Sends the elements of `values` to `destination`.
    public func send<T: CommunicatorScalar>(_ values: [T], to destination: Int, tag: Int) throws {
        try values.withUnsafeBytes { try sendBytes($0, to: destination, tag: tag) }
    }

    /// Receives a whole message of `T` scalars, sized by probing first, so senders may
    /// send any length. `nil` source or tag matches any.
    public func receive<T: CommunicatorScalar>(_ type: T.Type, from source: Int? = nil, tag: Int? = nil) throws -> (values: [T], info: MessageInfo) {
        let info = try probe(from: source, tag: tag)
        guard info.byteCount % MemoryLayout<T>.stride == 0 else {
            throw CommunicatorError.sizeMismatch("message of \(info.byteCount) bytes is not a whole number of \(T.self)")
        }
        var values = [T](repeating: 0, count: info.byteCount / MemoryLayout<T>.stride)
        let got = try values.withUnsafeMutableBytes { try receiveBytes(into: $0, from: info.source, tag: info.tag) }
        return (values, got)
    }

    /// Receives into a caller-owned buffer; the message must fit.
    @discardableResult
    public func receive<T: CommunicatorScalar>(into buffer: UnsafeMutableBufferPointer<T>, from source: Int? = nil, tag: Int? = nil) throws -> MessageInfo {
        let info = try probe(from: source, tag: tag)
        return try receiveBytes(into: UnsafeMutableRawBufferPointer(buffer), from: info.source, tag: info.tag)
    }

    /// Sends a `Codable` value (JSON-encoded) to `destination`.
    public func send<M: Encodable>(message: M, to destination: Int, tag: Int) throws {
        let data = try JSONEncoder().encode(message)
        try data.withUnsafeBytes { try sendBytes($0, to: destination, tag: tag) }
    }

    /// Receives a `Codable` value sent with ``send(message:to:tag:)``.
    public func receive<M: Decodable>(message type: M.Type, from source: Int? = nil, tag: Int? = nil) throws -> (message: M, info: MessageInfo) {
        let (bytes, info) = try receive(UInt8.self, from: source, tag: tag)
        do {
            return (try JSONDecoder().decode(M.self, from: Data(bytes)), info)
        } catch {
            throw CommunicatorError.decoding("\(M.self) from rank \(info.source) tag \(info.tag): \(error)")
        }
    }
}

// MARK: Typed collectives

extension Communicator {
    /// In-place all-reduce of a buffer.
    public func allreduce<T: CommunicatorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReductionOp) throws {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return try allreduceEmpty() }
        try allreduceBytes(nil, base, count: buffer.count, type: T.scalarType, op: op)
    }

    /// In-place all-reduce of an array.
    public func allreduce<T: CommunicatorScalar>(_ values: inout [T], op: ReductionOp) throws {
        try values.withUnsafeMutableBufferPointer { try allreduce($0, op: op) }
    }

    /// Out-of-place all-reduce: `result` receives the reduction of every rank's `input`.
    public func allreduce<T: CommunicatorScalar>(_ input: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>, op: ReductionOp) throws {
        guard input.count == result.count else {
            throw CommunicatorError.sizeMismatch("allreduce input has \(input.count) elements, result \(result.count)")
        }
        guard let i = input.baseAddress, let o = result.baseAddress, !input.isEmpty else { return try allreduceEmpty() }
        try allreduceBytes(UnsafeRawPointer(i), o, count: input.count, type: T.scalarType, op: op)
    }

    /// Out-of-place all-reduce returning a new array.
    public func allreduced<T: CommunicatorScalar>(_ input: [T], op: ReductionOp) throws -> [T] {
        var result = [T](repeating: 0, count: input.count)
        try input.withUnsafeBufferPointer { i in
            try result.withUnsafeMutableBufferPointer { try allreduce(i, into: $0, op: op) }
        }
        return result
    }

    /// Reduces to `root` in place: on `root` the buffer ends holding the result; on the
    /// other ranks it is left unchanged.
    public func reduce<T: CommunicatorScalar>(_ values: inout [T], op: ReductionOp, root: Int) throws {
        let count = values.count
        if rank == root {
            try values.withUnsafeMutableBufferPointer { buf in
                guard let b = buf.baseAddress, count > 0 else { return }
                try reduceBytes(nil, b, count: count, type: T.scalarType, op: op, root: root)
            }
        } else {
            var scratch = [T](repeating: 0, count: 1)
            try values.withUnsafeBufferPointer { buf in
                try scratch.withUnsafeMutableBufferPointer { s in
                    guard let b = buf.baseAddress, count > 0 else { return }
                    try reduceBytes(UnsafeRawPointer(b), s.baseAddress!, count: count, type: T.scalarType, op: op, root: root)
                }
            }
        }
    }

    /// Broadcasts `values` from `root`. Every rank must pass an array of the same count.
    public func broadcast<T: CommunicatorScalar>(_ values: inout [T], root: Int) throws {
        try values.withUnsafeMutableBytes { try broadcastBytes($0, root: root) }
    }

    /// Broadcasts a buffer in place from `root`.
    public func broadcast<T: CommunicatorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws {
        try broadcastBytes(UnsafeMutableRawBufferPointer(buffer), root: root)
    }

    /// Broadcasts a `Codable` value from `root`; other ranks' `value` is ignored.
    public func broadcast<M: Codable>(message value: M?, root: Int) throws -> M {
        var length: [Int64] = [0]
        var bytes: [UInt8] = []
        if rank == root {
            guard let value else { throw CommunicatorError.sizeMismatch("root \(root) has no value to broadcast") }
            bytes = Array(try JSONEncoder().encode(value))
            length[0] = Int64(bytes.count)
        }
        try broadcast(&length, root: root)
        if rank != root { bytes = [UInt8](repeating: 0, count: Int(length[0])) }
        try broadcast(&bytes, root: root)
        do { return try JSONDecoder().decode(M.self, from: Data(bytes)) } catch {
            throw CommunicatorError.decoding("\(M.self) broadcast from \(root): \(error)")
        }
    }

    /// Gathers every rank's array (lengths may differ) on `root`, in rank order;
    /// other ranks get `[]`.
    public func gather<T: CommunicatorScalar>(_ values: [T], root: Int) throws -> [[T]] {
        try decodeGathered(try values.withUnsafeBytes { try gatherBytes($0, root: root) })
    }

    /// Gathers every rank's array (lengths may differ) on every rank, in rank order.
    public func allgather<T: CommunicatorScalar>(_ values: [T]) throws -> [[T]] {
        try decodeGathered(try values.withUnsafeBytes { try gatherBytes($0, root: nil) })
    }

    /// Splits `values` (on `root`) into `size` chunks (lengths may differ) and gives
    /// rank i chunk i. `chunks` is read on `root` only.
    public func scatter<T: CommunicatorScalar>(_ chunks: [[T]], root: Int) throws -> [T] {
        var counts = [Int64](repeating: 0, count: size)
        if rank == root {
            guard chunks.count == size else {
                throw CommunicatorError.sizeMismatch("scatter needs \(size) chunks, got \(chunks.count)")
            }
            counts = chunks.map { Int64($0.count) }
        }
        try broadcast(&counts, root: root)
        let tag = Self.scatterTag
        if rank == root {
            for (r, chunk) in chunks.enumerated() where r != root { try send(chunk, to: r, tag: tag) }
            return chunks[root]
        }
        var mine = [T](repeating: 0, count: Int(counts[rank]))
        try mine.withUnsafeMutableBytes { _ = try receiveBytes(into: $0, from: root, tag: tag) }
        return mine
    }

    /// The tag reserved for ``scatter(_:root:)``'s point-to-point messages.
    public static var scatterTag: Int { 32_000 }

    private func decodeGathered<T: CommunicatorScalar>(_ parts: [[UInt8]]) throws -> [[T]] {
        try parts.map { bytes in
            guard bytes.count % MemoryLayout<T>.stride == 0 else {
                throw CommunicatorError.sizeMismatch("gathered \(bytes.count) bytes, not a whole number of \(T.self)")
            }
            return bytes.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
        }
    }

    /// Zero-length collectives still synchronise, so every rank makes the same calls.
    private func allreduceEmpty() throws { try barrier() }
}

import CohortCluster

// MARK: Point-to-point, split and error checks

extension ConformanceSuite {
    static func ring(_ comm: Communicator, _ e: Expectations) throws {
        let n = comm.size, r = comm.rank
        guard n > 1 else { return }
        let next = (r + 1) % n, previous = (r + n - 1) % n
        // Even ranks send first, odd ranks receive first: works with any send semantics.
        let payload = (0..<(r + 5)).map { Double(r) * 10 + Double($0) }
        let expected = (0..<(previous + 5)).map { Double(previous) * 10 + Double($0) }
        if r % 2 == 0 {
            try comm.send(payload, to: next, tag: 7)
            let (got, info) = try comm.receive(Double.self, from: previous, tag: 7)
            e.expectEqual(got, expected, "ring payload")
            e.expectEqual(info, MessageInfo(source: previous, tag: 7, byteCount: expected.count * 8), "ring info")
        } else {
            let (got, _) = try comm.receive(Double.self, from: previous, tag: 7)
            try comm.send(payload, to: next, tag: 7)
            e.expectEqual(got, expected, "ring payload")
        }
    }

    static func probe(_ comm: Communicator, _ e: Expectations) throws {
        let n = comm.size
        guard n > 1 else { return }
        if comm.rank == 1 {
            try comm.send([Float](repeating: 3, count: 17), to: 0, tag: 21)
            try comm.send([UInt8](repeating: 9, count: 5), to: 0, tag: 22)
        }
        if comm.rank == 0 {
            e.expect(try comm.iprobe(from: 1, tag: 99) == nil, "iprobe for a tag nobody sent returned a message")
            // Tag 22 arrives second but can be probed and received first.
            let second = try comm.probe(from: 1, tag: 22)
            e.expectEqual(second, MessageInfo(source: 1, tag: 22, byteCount: 5), "probe of tag 22")
            let (bytes, _) = try comm.receive(UInt8.self, from: 1, tag: 22)
            e.expectEqual(bytes, [UInt8](repeating: 9, count: 5), "tag 22 payload")
            let first = try comm.probe(from: nil, tag: nil)
            e.expectEqual(first, MessageInfo(source: 1, tag: 21, byteCount: 68), "probe of any message")
            var buffer = [Float](repeating: 0, count: 20)
            let info = try buffer.withUnsafeMutableBufferPointer { try comm.receive(into: $0, from: 1, tag: 21) }
            e.expectEqual(info.byteCount, 68, "received size")
            e.expectEqual(Array(buffer.prefix(17)), [Float](repeating: 3, count: 17), "tag 21 payload")
            e.expect(try comm.iprobe(from: nil, tag: nil) == nil, "mailbox should be empty")
        }
    }

    static func anySource(_ comm: Communicator, _ e: Expectations) throws {
        let n = comm.size
        if comm.rank != 0 {
            try comm.send([Int64(comm.rank * 3)], to: 0, tag: 5)
        } else {
            var seen: [Int: Int64] = [:]
            for _ in 1..<n {
                let (v, info) = try comm.receive(Int64.self, from: nil, tag: 5)
                seen[info.source] = v.first
            }
            e.expectEqual(seen, Dictionary(uniqueKeysWithValues: (1..<n).map { ($0, Int64($0 * 3)) }), "one message from every worker")
        }
    }

    static func codable(_ comm: Communicator, _ e: Expectations) throws {
        struct Job: Codable, Equatable { var trial: Int; var config: [String: Double]; var note: String? }
        let n = comm.size
        guard n > 1 else { return }
        if comm.rank == 0 {
            for w in 1..<n { try comm.send(message: Job(trial: w, config: ["lr": 0.1 * Double(w)], note: nil), to: w, tag: 3) }
            for _ in 1..<n {
                let (reply, info) = try comm.receive(message: Job.self, from: nil, tag: 4)
                e.expectEqual(reply, Job(trial: info.source, config: ["lr": 0.1 * Double(info.source)], note: "done by \(info.source)"), "reply")
            }
        } else {
            var (job, _) = try comm.receive(message: Job.self, from: 0, tag: 3)
            e.expectEqual(job.trial, comm.rank, "job trial")
            job.note = "done by \(comm.rank)"
            try comm.send(message: job, to: 0, tag: 4)
        }
    }

    static func nonBlocking(_ comm: Communicator, _ e: Expectations) throws {
        let n = comm.size
        // Everyone posts non-blocking sends to everyone else first, then receives:
        // with blocking sends of large messages this pattern would deadlock.
        let big = 300_000
        var requests: [PendingRequest] = []
        for peer in 0..<n where peer != comm.rank {
            let bytes = [UInt8]((0..<big).map { UInt8(truncatingIfNeeded: $0 &+ comm.rank) })
            requests.append(try comm.isendBytes(bytes, to: peer, tag: 11))
        }
        for peer in 0..<n where peer != comm.rank {
            let (got, _) = try comm.receive(UInt8.self, from: peer, tag: 11)
            e.expect(got == (0..<big).map { UInt8(truncatingIfNeeded: $0 &+ peer) }, "non-blocking payload from \(peer)")
        }
        for request in requests { try request.wait() }
        e.expect(try requests.allSatisfy { try $0.test() }, "requests complete after wait")
    }

    static func split(_ comm: Communicator, _ e: Expectations) throws {
        let n = comm.size, r = comm.rank
        // Two colours by parity, ordered by descending old rank.
        guard let half = try comm.split(color: r % 2, key: -r) else {
            e.expect(false, "split returned nil for a coloured rank")
            return
        }
        let members = (0..<n).filter { $0 % 2 == r % 2 }.sorted(by: >)
        e.expectEqual(half.size, members.count, "sub-communicator size")
        e.expectEqual(half.rank, members.firstIndex(of: r) ?? -1, "sub-communicator rank")
        var v: [Double] = [Double(r)]
        try half.allreduce(&v, op: .sum)
        e.expectEqual(v, [Double(members.reduce(0, +))], "sum within the colour")
        let gathered = try half.allgather([Int32(r)])
        e.expectEqual(gathered.map { Int($0[0]) }, members, "sub-communicator order follows the key")
        if half.size > 1 {
            // Messages in the sub-communicator do not leak into the parent.
            if half.rank == 0 { try half.send([Int32(42)], to: 1, tag: 1) }
            if half.rank == 1 { e.expectEqual(try half.receive(Int32.self, from: 0, tag: 1).values, [42], "sub p2p") }
        }
        try half.barrier()
        // Ranks may opt out of a split.
        let firstOnly = try comm.split(color: r == 0 ? 1 : nil, key: 0)
        e.expect((firstOnly == nil) == (r != 0), "nil colour gives nil communicator")
        e.expectEqual(firstOnly?.size ?? 1, 1, "singleton split size")
    }

    static func errors(_ comm: Communicator, _ e: Expectations) throws {
        let n = comm.size
        do {
            try comm.send([Float(1)], to: n + 3, tag: 1)
            e.expect(false, "send to rank \(n + 3) did not fail")
        } catch {
            e.expect("\(error)".lowercased().contains("rank"), "error for a bad rank should mention the rank: \(error)")
            if comm is MPICommunicator {
                // MPI itself rejects the rank; its own error string must reach the caller.
                if case CommunicatorError.mpi(_, _, let message) = error {
                    e.expect(message.contains("MPI_ERR_RANK"), "MPI's error string missing: \(message)")
                } else {
                    e.expect(false, "a bad rank under MPI should surface as CommunicatorError.mpi, got \(error)")
                }
            }
        }
        guard n > 1 else { return }
        if comm.rank == 1 { try comm.send([Double](repeating: 1, count: 10), to: 0, tag: 13) }
        if comm.rank == 0 {
            var small = [Double](repeating: 0, count: 3)
            do {
                try small.withUnsafeMutableBufferPointer { _ = try comm.receive(into: $0, from: 1, tag: 13) }
                e.expect(false, "receiving 10 doubles into 3 did not fail")
            } catch CommunicatorError.truncated(let expected, let capacity) {
                e.expectEqual([expected, capacity], [80, 24], "truncation sizes")
            }
            // The message is still there and can be received whole.
            e.expectEqual(try comm.receive(Double.self, from: 1, tag: 13).values, [Double](repeating: 1, count: 10), "message kept after a refused receive")
        }
    }
}

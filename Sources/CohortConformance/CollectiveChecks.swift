import CohortCluster

// MARK: Collective checks (exact expected values computed from rank and size)

extension ConformanceSuite {
    /// Rank i contributes `(i + 1) * (k % 97) + i / 2` at position k (exact in Float).
    static func value<T: BinaryFloatingPoint>(_ rank: Int, _ k: Int, as: T.Type = T.self) -> T {
        T((rank + 1) * (k % 97)) + T(rank) / 2
    }

    static func identity(_ comm: Communicator, _ e: Expectations) throws {
        e.expect(comm.size >= 1 && (0..<comm.size).contains(comm.rank), "rank \(comm.rank) outside 0..<\(comm.size)")
        let ranks = try comm.allgather([Int32(comm.rank)])
        e.expectEqual(ranks.map { $0.first ?? -1 }, (0..<comm.size).map(Int32.init), "allgather of ranks")
    }

    static func allreduce<T: BinaryFloatingPoint & CommunicatorScalar>(_: T.Type, _ comm: Communicator, _ e: Expectations) throws {
        let n = comm.size
        for length in e.lengths {
            let mine = (0..<length).map { value(comm.rank, $0, as: T.self) }
            for op in ReductionOp.allCases {
                let expected: [T] = (0..<length).map { k in
                    let all = (0..<n).map { value($0, k, as: T.self) }
                    switch op {
                    case .sum: return all.reduce(0, +)
                    case .mean: return all.reduce(0, +) / T(n)
                    case .min: return all.min()!
                    case .max: return all.max()!
                    }
                }
                var inPlace = mine
                try comm.allreduce(&inPlace, op: op)
                e.expectEqual(inPlace, expected, "in-place \(op) of \(length) \(T.self)")
                let outOfPlace = try comm.allreduced(mine, op: op)
                e.expectEqual(outOfPlace, expected, "out-of-place \(op) of \(length) \(T.self)")
                e.expectEqual(mine, (0..<length).map { value(comm.rank, $0, as: T.self) }, "input untouched by \(op)")
            }
        }
    }

    static func allreduceIntegers(_ comm: Communicator, _ e: Expectations) throws {
        let n = comm.size
        var v: [Int64] = [Int64(comm.rank) - 3, 1 << 40, Int64(comm.rank * comm.rank)]
        try comm.allreduce(&v, op: .sum)
        e.expectEqual(v, [Int64(n * (n - 1) / 2 - 3 * n), Int64(n) << 40, Int64((0..<n).map { $0 * $0 }.reduce(0, +))], "Int64 sum")
        var w: [Int32] = [Int32(comm.rank), -Int32(comm.rank)]
        try comm.allreduce(&w, op: .max)
        e.expectEqual(w, [Int32(n - 1), 0], "Int32 max")
    }

    /// Every rank must get the same bits, even for sums that round (data-parallel
    /// training relies on it to keep replicas identical).
    static func allreduceIdenticalBits(_ comm: Communicator, _ e: Expectations) throws {
        var v = (0..<3_001).map { k in Float(1) / Float(k + comm.rank + 3) }
        try comm.allreduce(&v, op: .mean)
        let everyone = try comm.allgather(v)
        for (r, other) in everyone.enumerated() {
            e.expect(other.map(\.bitPattern) == v.map(\.bitPattern), "rank \(r)'s mean differs in bits from rank \(comm.rank)'s")
        }
    }

    static func reduce(_ comm: Communicator, _ e: Expectations) throws {
        let n = comm.size
        for root in Set([0, n - 1, n / 2]).sorted() {
            for length in [1, 4_099] {
                let mine = (0..<length).map { value(comm.rank, $0, as: Double.self) }
                var buffer = mine
                try comm.reduce(&buffer, op: .sum, root: root)
                if comm.rank == root {
                    let expected = (0..<length).map { k in (0..<n).map { value($0, k, as: Double.self) }.reduce(0, +) }
                    e.expectEqual(buffer, expected, "sum of \(length) at root \(root)")
                } else {
                    e.expectEqual(buffer, mine, "non-root buffer left unchanged (root \(root))")
                }
            }
        }
    }

    static func broadcast(_ comm: Communicator, _ e: Expectations) throws {
        for root in Set([0, comm.size - 1]).sorted() {
            var v = comm.rank == root ? (0..<4_099).map { Float($0) * 0.25 + Float(root) } : [Float](repeating: -1, count: 4_099)
            try comm.broadcast(&v, root: root)
            e.expectEqual(v, (0..<4_099).map { Float($0) * 0.25 + Float(root) }, "broadcast from \(root)")
            struct Plan: Codable, Equatable { var name: String; var sizes: [Int] }
            let plan = try comm.broadcast(message: comm.rank == root ? Plan(name: "from \(root)", sizes: [1, 2, root]) : nil, root: root)
            e.expectEqual(plan, Plan(name: "from \(root)", sizes: [1, 2, root]), "Codable broadcast from \(root)")
        }
    }

    static func gather(_ comm: Communicator, _ e: Expectations) throws {
        let n = comm.size
        let mine = (0...comm.rank).map { Double(comm.rank * 1_000 + $0) }
        let expected = (0..<n).map { r in (0...r).map { Double(r * 1_000 + $0) } }
        e.expectEqual(try comm.allgather(mine), expected, "allgather of rank+1 elements each")
        for root in Set([0, n - 1]).sorted() {
            let got = try comm.gather(mine, root: root)
            e.expectEqual(got, comm.rank == root ? expected : [], "gather to \(root)")
        }
        let empty = try comm.allgather([Float]())
        e.expectEqual(empty, Array(repeating: [], count: n), "allgather of empty arrays")
    }

    static func scatter(_ comm: Communicator, _ e: Expectations) throws {
        let n = comm.size
        let root = n - 1
        let chunks = (0..<n).map { r in (0..<(2 * r + 1)).map { Float(r) + Float($0) / 8 } }
        let got = try comm.scatter(comm.rank == root ? chunks : [], root: root)
        e.expectEqual(got, chunks[comm.rank], "scatter chunk")
    }
}

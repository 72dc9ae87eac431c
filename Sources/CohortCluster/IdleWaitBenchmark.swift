import Foundation

/// Measures what waiting costs: rank 0 sleeps while every other rank waits, first for a
/// message (`probe`) and then in a `barrier`, and each rank reports the CPU time it
/// spent waiting as a fraction of the wall time. Busy-polling ranks would show close to
/// one core each (or cores / ranks when oversubscribed); sleeping ranks show about zero.
public struct IdleWaitBenchmark {
    public struct Row: Codable, Equatable {
        public var rank: Int
        public var phase: String
        public var wallSeconds: Double
        public var cpuSeconds: Double
        /// CPU time over wall time: the share of one core this rank used while waiting.
        public var coreShare: Double { wallSeconds > 0 ? cpuSeconds / wallSeconds : 0 }
    }

    /// How long rank 0 keeps the others waiting in each phase.
    public var seconds: Double

    public init(seconds: Double = 3) { self.seconds = seconds }

    /// Runs on every rank; rank 0 returns every rank's rows, the others `[]`.
    public func run(on comm: Communicator) throws -> [Row] {
        var mine: [Row] = []
        let tag = 31_999
        try comm.barrier()
        mine.append(try measure(comm, phase: "probe") {
            if comm.rank == 0 {
                usleep(UInt32(seconds * 1e6))
                for r in 1..<comm.size { try comm.send([UInt8(1)], to: r, tag: tag) }
            } else {
                _ = try comm.receive(UInt8.self, from: 0, tag: tag)
            }
        })
        mine.append(try measure(comm, phase: "barrier") {
            if comm.rank == 0 { usleep(UInt32(seconds * 1e6)) }
            try comm.barrier()
        })
        let encoded = try JSONEncoder().encode(mine)
        let all = try comm.gather(Array(encoded), root: 0)
        return try all.flatMap { try JSONDecoder().decode([Row].self, from: Data($0)) }
    }

    private func measure(_ comm: Communicator, phase: String, _ body: () throws -> Void) throws -> Row {
        let wall0 = Date(), cpu0 = Self.processCPUSeconds()
        try body()
        return Row(rank: comm.rank, phase: phase, wallSeconds: Date().timeIntervalSince(wall0),
                   cpuSeconds: Self.processCPUSeconds() - cpu0)
    }

    /// User plus system CPU time of this process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }
}

import ArgumentParser
import CohortCluster
import Foundation

/// `cohort bench allreduce`: the Communicator's allreduce against a direct MPI call.
struct BenchAllreduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Time allreduce through Cohort and through MPI_Allreduce directly, 4 B to 16 MiB.",
        discussion: "Run under mpirun with at least 2 ranks, e.g. scripts/mpirun.sh -np 4 cohort bench allreduce")

    @Option(help: "Timed samples per size and path (the median is reported).")
    var samples = 21

    @Option(help: "Largest message in bytes (a power of 4 from 4 up to 16 MiB).")
    var maxBytes = 16 << 20

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1") }
        guard maxBytes >= 4 else { throw ValidationError("--max-bytes must be at least 4") }
        guard Cluster.isUnderMPI, Cluster.launchSize >= 2 else {
            throw RankCountError("bench allreduce compares with MPI and needs mpirun with at least 2 ranks (got \(Cluster.launchSize))")
        }
    }

    func run() throws {
        guard let comm = try Cluster.world() as? MPICommunicator else {
            throw RankCountError("bench allreduce needs the MPI backend")
        }
        var bench = AllreduceBenchmark()
        bench.samples = samples
        bench.sizes = bench.sizes.filter { $0 <= maxBytes }
        let rows = try bench.run(on: comm)
        guard comm.rank == 0 else { return }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(BenchReport(ranks: comm.size, rows: rows)), as: UTF8.self))
            return
        }
        print("allreduce (Float sum, in place) over \(comm.size) ranks; median of \(samples) samples; slowest rank per sample")
        print(Table(header: ["bytes", "iters", "cohort us", "MPI us", "ratio", "diff us", "cohort GB/s", "MPI GB/s"],
                    rows: rows.map { r in
                        [Self.bytes(r.bytes), "\(r.iterations)", Self.f(r.cohortMicroseconds, 2), Self.f(r.directMicroseconds, 2),
                         Self.f(r.ratio, 3), Self.f(r.overheadMicroseconds, 3), Self.f(r.cohortBusGBps, 3), Self.f(r.directBusGBps, 3)]
                    }).rendered)
    }

    struct BenchReport: Codable {
        var ranks: Int
        var rows: [AllreduceBenchmark.Row]
    }

    static func f(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

    static func bytes(_ n: Int) -> String {
        n >= 1 << 20 ? "\(n >> 20) MiB" : n >= 1 << 10 ? "\(n >> 10) KiB" : "\(n) B"
    }
}

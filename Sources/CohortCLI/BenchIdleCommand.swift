import ArgumentParser
import CohortCluster
import Foundation

/// `cohort bench idle`: the CPU that waiting ranks burn.
struct BenchIdleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Measure the CPU time ranks use while they wait for a message and in a barrier.",
        discussion: "e.g. scripts/mpirun.sh -np 8 cohort bench idle   (8 ranks on 2 cores)")

    @Option(help: "Seconds rank 0 keeps the others waiting in each phase.")
    var seconds = 3.0

    @Option(help: "Exit non-zero if any waiting rank used more than this share of a core (e.g. 0.1).")
    var maxCoreShare: Double?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard seconds > 0 && seconds <= 600 else { throw ValidationError("--seconds must be above 0 and at most 600, got \(seconds)") }
        if let share = maxCoreShare, !(share >= 0 && share <= 1) {
            throw ValidationError("--max-core-share must be a share of one core from 0 to 1, got \(share)")
        }
    }

    func run() throws {
        let comm = try Cluster.world()
        guard comm.size >= 2 else {
            throw RankCountError("bench idle needs at least 2 ranks: launch it with mpirun -np N (N >= 2)")
        }
        let rows = try IdleWaitBenchmark(seconds: seconds).run(on: comm)
        var worst: [Int32] = [0]
        if comm.rank == 0 {
            let waiting = rows.filter { $0.rank != 0 }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            } else {
                print("waiting ranks' CPU use over \(comm.size) ranks on \(ProcessInfo.processInfo.activeProcessorCount) cores (rank 0 sleeps \(seconds) s per phase)")
                print(Table(header: ["rank", "phase", "wall s", "cpu s", "core share"], rows: waiting.map {
                    ["\($0.rank)", $0.phase, String(format: "%.3f", $0.wallSeconds), String(format: "%.4f", $0.cpuSeconds),
                     String(format: "%.2f%%", $0.coreShare * 100)]
                }).rendered)
                for phase in ["probe", "barrier"] {
                    let share = waiting.filter { $0.phase == phase }.map(\.coreShare).reduce(0, +)
                    print(String(format: "%@: all %d waiting ranks together used %.2f%% of one core", phase, comm.size - 1, share * 100))
                }
            }
            if let limit = maxCoreShare, let bad = waiting.first(where: { $0.coreShare > limit }) {
                FileHandle.standardError.write(Data("FAIL: rank \(bad.rank) used \(String(format: "%.1f%%", bad.coreShare * 100)) of a core while waiting in \(bad.phase), above --max-core-share \(limit)\n".utf8))
                worst[0] = 1
            }
        }
        try comm.broadcast(&worst, root: 0)
        if worst[0] != 0 { throw ExitCode(3) }
    }
}

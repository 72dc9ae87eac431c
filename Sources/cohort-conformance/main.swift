import CohortCluster
import CohortConformance
import Foundation

// Runs the communicator conformance suite on the MPI world (under mpirun) and prints
// one summary line on rank 0: "N passed, M failed". Exits non-zero on any failure.
// Usage: mpirun -np 3 cohort-conformance [name-filter]

let filter = CommandLine.arguments.dropFirst().first
do {
    let comm = try Cluster.world()
    let failures = try ConformanceSuite.run(on: comm, filter: filter)
    let all = try comm.gather(Array(failures.joined(separator: "\n").utf8), root: 0)
    var failed = 0
    if comm.rank == 0 {
        let lines = all.flatMap { String(decoding: $0, as: UTF8.self).split(separator: "\n") }
        lines.forEach { print("FAIL \($0)") }
        let names = ConformanceSuite.checkNames.filter { filter.map($0.contains) ?? true }
        let failedChecks = Set(lines.compactMap { $0.split(separator: "]").first.map { String($0.dropFirst()) } })
        failed = failedChecks.count
        print("conformance over \(comm.size) MPI ranks: \(names.count - failed) passed, \(failed) failed")
    }
    var status: [Int32] = [Int32(failed)]
    try comm.broadcast(&status, root: 0)
    Cluster.finalize()
    exit(status[0] == 0 ? 0 : 1)
} catch {
    FileHandle.standardError.write(Data("cohort-conformance: \(error)\n".utf8))
    Cluster.abort(code: 2)
}

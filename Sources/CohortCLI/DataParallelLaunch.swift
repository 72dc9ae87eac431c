import CohortCluster
import CohortTensor
import Foundation

/// How the data-parallel workload commands (xd, meta, orca) start: one BLAS thread per
/// process unless OPENBLAS_NUM_THREADS says otherwise (their products are small, and
/// threads spinning over them cost more than they give; more ranks use more cores), the
/// world communicator, and progress lines on rank 0's stderr unless --quiet.
struct DataParallelLaunch {
    let communicator: Communicator
    let isRoot: Bool
    let progress: (String) -> Void

    init(quiet: Bool) throws {
        if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil { BLASRuntime.setThreads(1) }
        communicator = try Cluster.world()
        let isRoot = communicator.rank == 0
        self.isRoot = isRoot
        progress = { line in if isRoot && !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) } }
    }
}

import ArgumentParser
import CohortCluster
import CohortTensor
import Foundation

/// `cohort info`: what each rank runs on, and whether BLAS picked the right kernel.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print each rank's host, MPI library and BLAS setup.",
        discussion: "Under mpirun every rank reports; rank 0 prints the table in rank order.")

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    @Flag(help: "Print only the OPENBLAS_CORETYPE this CPU needs (nothing when OpenBLAS chose well); used by scripts/mpirun.sh.")
    var recommendedCoretype = false

    func run() throws {
        if recommendedCoretype {
            if let fix = BLASRuntime.recommendedCoreType { print(fix) }
            return
        }
        let comm = try Cluster.world()
        var mine = RankReport.current(rank: comm.rank, size: comm.size)
        // What a job-farm worker on this rank is given (farm.devices: auto, one per trial).
        let placement = try DevicePlacement().assignments(comm: comm)
        mine.devices = comm.rank == 0 ? "coordinator" : placement[comm.rank].devices.isEmpty ? "none" : placement[comm.rank].devices.joined(separator: ",")
        let all = try comm.gather(Array(try JSONEncoder().encode(mine)), root: 0)
        guard comm.rank == 0 else { return }
        let reports = try all.map { try JSONDecoder().decode(RankReport.self, from: Data($0)) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(reports), as: UTF8.self))
            return
        }
        print("MPI: \(Cluster.isUnderMPI ? reports[0].mpiLibrary : "not launched by mpirun (one in-process rank)")")
        print("BLAS: \(reports[0].blasConfiguration)")
        print(Table(header: ["rank", "host", "pid", "BLAS kernel", "bits", "BLAS threads", "CPU vectors", "OPENBLAS_CORETYPE", "GPUs"],
                    rows: reports.map { [ "\($0.rank)/\($0.size)", $0.host, "\($0.pid)", $0.blasKernel, "\($0.blasVectorBits)", "\($0.blasThreads)",
                                          $0.cpuVectors, $0.coreTypeVariable ?? "-", $0.devices ] }).rendered)
        for report in reports {
            if let warning = report.warning { print("warning: rank \(report.rank): \(warning)") }
        }
        // Measured on rank 0 once the others are done, so they do not share its cores.
        print("\(reports[0].host): \(MachinePeak.measure().summary)")
    }
}

/// One rank's view of its machine.
struct RankReport: Codable {
    var rank: Int
    var size: Int
    var host: String
    var pid: Int32
    var mpiLibrary: String
    var blasConfiguration: String
    var blasKernel: String
    /// The vector width the kernel computes with.
    var blasVectorBits: Int
    var blasThreads: Int
    var cpuVectors: String
    var coreTypeVariable: String?
    var warning: String?
    /// The GPUs a job-farm worker on this rank gets (`CUDA_VISIBLE_DEVICES`), "none" or "coordinator".
    var devices = "none"

    static func current(rank: Int, size: Int) -> RankReport {
        let cpu = CPUFeatures.current
        return RankReport(
            rank: rank, size: size, host: Cluster.processorName, pid: getpid(),
            mpiLibrary: Cluster.mpiLibraryVersion.split(separator: ",").first.map(String.init) ?? "unknown",
            blasConfiguration: BLASRuntime.configuration, blasKernel: BLASRuntime.coreName,
            blasVectorBits: MachinePeak.vectorBits(kernel: BLASRuntime.coreName), blasThreads: BLASRuntime.threads,
            cpuVectors: cpu.avx512f ? "AVX-512" : cpu.avx2 ? "AVX2" : "SSE",
            coreTypeVariable: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"],
            warning: BLASRuntime.fallbackWarning)
    }
}

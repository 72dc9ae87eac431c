import CMPI
import Foundation

/// The entry point that picks a backend: Open MPI when the process was started by
/// `mpirun` (or srun with PMIx), otherwise a single in-process rank.
public enum Cluster {
    /// True when a process manager launched this process as one rank of many.
    public static var isUnderMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMIX_RANK"] != nil || env["PMI_RANK"] != nil
    }

    /// The world communicator: `MPI_COMM_WORLD` under `mpirun`, a one-rank
    /// ``LocalCommunicator`` otherwise. Initialises MPI on first use.
    public static func world() throws -> Communicator {
        guard isUnderMPI else { return LocalCommunicator.single() }
        return try MPIRuntime.world()
    }

    /// Finalises MPI if it was initialised; call once before the process exits.
    public static func finalize() { MPIRuntime.finalize() }

    /// Ends every rank of the job at once (`MPI_Abort`) so a failure on one rank does not
    /// leave the others waiting forever. Outside MPI it just exits.
    public static func abort(code: Int32) -> Never {
        MPIRuntime.abort(code: code)
    }

    /// The Open MPI library version string (`MPI_Get_library_version`), available
    /// without initialising MPI.
    public static var mpiLibraryVersion: String {
        var buffer = [CChar](repeating: 0, count: Int(cohort_mpi_max_library_version_string()) + 1)
        var length: Int32 = 0
        MPI_Get_library_version(&buffer, &length)
        return String(cString: buffer).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The host name MPI reports for this process (`MPI_Get_processor_name` when MPI is
    /// up, the system host name otherwise).
    public static var processorName: String {
        if MPIRuntime.isInitialized {
            var buffer = [CChar](repeating: 0, count: Int(cohort_mpi_max_processor_name()) + 1)
            var length: Int32 = 0
            if MPI_Get_processor_name(&buffer, &length) == cohort_mpi_success() { return String(cString: buffer) }
        }
        return ProcessInfo.processInfo.hostName
    }
}

/// Process-wide MPI state: initialised once, finalised once.
enum MPIRuntime {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var worldCommunicator: MPICommunicator?
    nonisolated(unsafe) private static var finalized = false

    static var isInitialized: Bool {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        return flag != 0
    }

    static var isFinalized: Bool {
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        return flag != 0
    }

    static func world() throws -> MPICommunicator {
        lock.lock()
        defer { lock.unlock() }
        if let worldCommunicator { return worldCommunicator }
        guard !finalized else { throw CommunicatorError.unsupported("MPI was already finalised") }
        if !isInitialized {
            var provided: Int32 = 0
            try MPIError.check(MPI_Init_thread(nil, nil, cohort_mpi_thread_serialized(), &provided), "MPI_Init_thread")
        }
        let comm = try MPICommunicator(handle: cohort_mpi_comm_world(), ownsHandle: false)
        worldCommunicator = comm
        return comm
    }

    static func finalize() {
        lock.lock()
        defer { lock.unlock() }
        guard isInitialized, !isFinalized else { return }
        worldCommunicator = nil
        finalized = true
        MPI_Finalize()
    }

    static func abort(code: Int32) -> Never {
        if isInitialized && !isFinalized { MPI_Abort(cohort_mpi_comm_world(), code) }
        exit(code)
    }
}

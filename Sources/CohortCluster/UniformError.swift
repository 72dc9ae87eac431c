import Foundation

/// An error every rank raises identically: a bad flag, a bad config, a rank count the
/// command cannot use. Reported once (by rank 0) instead of once per rank, and it
/// needs no `MPI_Abort` because no rank is left waiting for another.
public protocol UniformError: Error, CustomStringConvertible {}

/// A command was started with a number of ranks it cannot use.
public struct RankCountError: UniformError {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Cluster {
    /// This process's rank as the launcher told it, known before MPI starts (0 when not
    /// launched by `mpirun`). Used to print an error once, from rank 0.
    public static var launchRank: Int {
        let env = ProcessInfo.processInfo.environment
        for key in ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"] {
            if let raw = env[key], let r = Int(raw) { return r }
        }
        return 0
    }

    /// The number of ranks the launcher started (1 when not launched by `mpirun`).
    public static var launchSize: Int {
        let env = ProcessInfo.processInfo.environment
        for key in ["OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"] {
            if let raw = env[key], let n = Int(raw) { return n }
        }
        return 1
    }
}

import Foundation

/// The environment a user's program is started with: the rank's own, less what
/// would make it believe it is a rank of Cohort's job.
///
/// A script that itself uses mpi4py, torch.distributed or a Slurm-aware launcher reads
/// these variables to find its job; inheriting them would make it join (or hang in)
/// Cohort's.
public enum ChildEnvironment {
    /// Prefixes of the launcher's variables (Open MPI, PMIx, PMI, MPICH's Hydra, Intel MPI).
    public static let launcherPrefixes = ["OMPI_", "PMIX_", "PMI_", "OPAL_", "HYDRA_", "I_MPI_", "MPI_LOCAL"]
    /// Slurm's variables that name one task of a step (the job's own stay visible).
    public static let launcherNames: Set<String> = ["SLURM_PROCID", "SLURM_LOCALID", "SLURM_NODEID", "SLURM_NTASKS", "SLURM_NPROCS",
                                                     "SLURM_STEP_ID", "SLURM_STEPID", "SLURM_STEP_NUM_TASKS", "SLURM_STEP_TASKS_PER_NODE",
                                                     "SLURM_TASK_PID", "SLURM_GTIDS"]

    /// Whether `name` belongs to the launcher of this rank.
    public static func isLauncherVariable(_ name: String) -> Bool {
        launcherNames.contains(name) || launcherPrefixes.contains { name.hasPrefix($0) }
    }

    /// `base` without the launcher's variables, with `extra` on top.
    public static func make(base: [String: String] = ProcessInfo.processInfo.environment, extra: [String: String]) -> [String: String] {
        var env = base.filter { !isLauncherVariable($0.key) }
        for (k, v) in extra { env[k] = v }
        return env
    }
}

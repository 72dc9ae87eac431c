import Foundation

/// A request to stop at the next safe point: SIGTERM, SIGINT or SIGUSR1.
///
/// Slurm sends SIGTERM (or, with `--signal`, SIGUSR1) to every task before a time
/// limit; mpirun forwards SIGUSR1 to every rank, and on SIGTERM or SIGINT gives the
/// ranks `odls_base_sigkill_timeout` seconds (default 0) before killing them. Instead of dying mid-write, a command that called ``install()`` checks
/// ``signalName`` at its boundaries (a job, a round, an epoch, a step), finishes what
/// is in flight, writes a checkpoint and its journal, prints how to resume and exits 0.
/// The handler only records the signal number: nothing else is safe inside a handler.
public enum StopRequest {
    nonisolated(unsafe) private static var received: Int32 = 0
    nonisolated(unsafe) private static var installed = false

    /// Catches SIGTERM, SIGINT and SIGUSR1 from now on. Idempotent.
    public static func install() {
        guard !installed else { return }
        installed = true
        for s in [SIGTERM, SIGINT, SIGUSR1] {
            signal(s) { StopRequest.record($0) }
        }
    }

    private static func record(_ signal: Int32) { received = signal }

    /// The name of the signal received ("SIGTERM"), or nil while none has arrived.
    public static var signalName: String? {
        switch received {
        case 0: return nil
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGUSR1: return "SIGUSR1"
        default: return "signal \(received)"
        }
    }

    public static var isRequested: Bool { received != 0 }

    /// Agreement across ranks: true on every rank when any rank was asked to stop. One
    /// tiny allreduce; call it at the same boundary on every rank.
    public static func agreed(over comm: Communicator) throws -> Bool {
        try comm.allreduced([isRequested ? 1.0 : 0.0], op: .max)[0] > 0
    }

    /// For tests: as if `signal` had arrived (0 clears it).
    public static func simulate(_ signal: Int32) { received = signal }
}

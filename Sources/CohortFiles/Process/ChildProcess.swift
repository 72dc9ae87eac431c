import CSpawn
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A user's program started by a worker rank.
///
/// Started with `posix_spawn` (a rank must not fork after `MPI_Init`), in a process
/// group of its own so that a timeout ends the program and whatever it started, with
/// its standard output and error appended to files and no descriptor of the rank's
/// but the ones passed on purpose.
public final class ChildProcess {
    /// What to start.
    public struct Command: Sendable {
        /// The program (looked up in `PATH` when it has no slash) and its arguments.
        public var arguments: [String]
        public var workingDirectory: String?
        public var environment: [String: String]
        public var stdoutPath: String
        public var stderrPath: String

        public init(arguments: [String], workingDirectory: String?, environment: [String: String], stdoutPath: String, stderrPath: String) {
            self.arguments = arguments
            self.workingDirectory = workingDirectory
            self.environment = environment
            self.stdoutPath = stdoutPath
            self.stderrPath = stderrPath
        }
    }

    /// How a program ended.
    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)
        /// Killed by us after running `seconds`.
        case timedOut(seconds: Double)

        public var description: String {
            switch self {
            case let .exited(code): return "exited with status \(code)"
            case let .signaled(signal): return "was killed by signal \(signal) (\(ChildProcess.signalName(signal)))"
            case let .timedOut(seconds): return "timed out after \(JSONValue.number((seconds * 10).rounded() / 10)) s and was killed"
            }
        }

        public var succeeded: Bool { self == .exited(0) }
    }

    public struct LaunchError: Error, CustomStringConvertible {
        public var description: String
    }

    public let pid: pid_t
    public let started = Date()
    private var ended: Termination?

    private init(pid: pid_t) { self.pid = pid }

    /// Starts `command`; `passing` maps descriptors of this process to the numbers the
    /// program sees them under (at most 16).
    public static func launch(_ command: Command, passing: [(from: Int32, to: Int32)] = []) throws -> ChildProcess {
        guard let program = command.arguments.first, !program.isEmpty else { throw LaunchError(description: "the command is empty") }
        let env = command.environment.map { "\($0.key)=\($0.value)" }.sorted()
        var pid: pid_t = 0
        let rc = withCStrings(command.arguments) { argv in
            withCStrings(env) { envp in
                passing.map(\.from).withUnsafeBufferPointer { from in
                    passing.map(\.to).withUnsafeBufferPointer { to in
                        cohort_spawn(argv, envp, command.workingDirectory, command.stdoutPath, command.stderrPath,
                                     from.baseAddress, to.baseAddress, Int32(passing.count), &pid)
                    }
                }
            }
        }
        guard rc == 0 else {
            let where_ = command.workingDirectory.map { " in \($0)" } ?? ""
            throw LaunchError(description: "cannot start \(program)\(where_): \(String(cString: strerror(rc)))")
        }
        return ChildProcess(pid: pid)
    }

    /// The termination if the program has ended, without waiting.
    public func poll() -> Termination? {
        if let ended { return ended }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        guard r == pid else {
            if r < 0 && errno == ECHILD { ended = .exited(-1) }
            return ended
        }
        ended = ChildProcess.termination(status)
        return ended
    }

    /// Waits for the program to end. Past `timeout` seconds its process group is
    /// killed (SIGTERM, then SIGKILL after `grace` seconds) and the result is
    /// `.timedOut`.
    public func wait(timeout: Double? = nil, grace: Double = 2) -> Termination {
        var sleep: UInt32 = 100
        while true {
            if let t = poll() { return t }
            let elapsed = Date().timeIntervalSince(started)
            if let timeout, elapsed >= timeout {
                terminate(grace: grace)
                ended = .timedOut(seconds: elapsed)
                return ended!
            }
            usleep(sleep)
            sleep = Swift.min(sleep * 2, 5_000)
        }
    }

    /// Ends the program and its process group: SIGTERM, then SIGKILL once `grace`
    /// seconds have passed without it ending; reaps it.
    public func terminate(grace: Double = 2) {
        guard poll() == nil else { killpg(pid, SIGKILL); return }
        killpg(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while poll() == nil && Date() < deadline { usleep(2_000) }
        // Whatever the program started is ended too, even when the program itself exited.
        killpg(pid, SIGKILL)
        if poll() == nil {
            var status: Int32 = 0
            if waitpid(pid, &status, 0) == pid { ended = ChildProcess.termination(status) }
        }
    }

    static func termination(_ status: Int32) -> Termination {
        // WIFEXITED / WEXITSTATUS / WTERMSIG as the C macros compute them.
        let low = status & 0x7f
        if low == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(low)
    }

    public static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGABRT: "SIGABRT",
                                      SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM",
                                      SIGTERM: "SIGTERM", SIGBUS: "SIGBUS", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2"]
        return names[signal] ?? "signal \(signal)"
    }
}

/// Calls `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

import CohortFiles
import Foundation

/// The `trainable:` section of a user's own program (`type: command`).
///
/// ```yaml
/// trainable:
///   type: command
///   command: [python3, train.py, --data, /data]  # the program and its own arguments
///   mode: per_job           # one process per job; persistent: one per worker, JSON lines
///   hyperparameters: flags  # appended as --name value; json: a file named by COHORT_HYPERPARAMETERS
///   working_directory: .    # where the program runs (default: where cohort was started)
///   timeout: 600            # seconds a job may run before its process group is killed
///   timeout_per_unit: 0     # plus this much per resource unit the job trains
///   on_timeout: fail        # or retry: once more, on the next free worker
///   environment: {OMP_NUM_THREADS: 1}
/// ```
public struct CommandSpec: Equatable, Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        case perJob = "per_job"
        case persistent
    }

    public enum HyperparameterPassing: String, Sendable, CaseIterable { case flags, json }

    public enum OnTimeout: String, Sendable, CaseIterable { case fail, retry }

    public var arguments: [String]
    public var mode: Mode
    public var passing: HyperparameterPassing
    /// Absolute.
    public var workingDirectory: String
    public var timeout: JobTimeout?
    public var onTimeout: OnTimeout
    public var environment: [String: String]

    /// Reads the section, recording its problems in the section's issues.
    public init(section s: ConfigSection, currentDirectory: String = FileManager.default.currentDirectoryPath) {
        arguments = []
        if let command = s.value("command") {
            if let items = command.arrayValue, !items.isEmpty, items.allSatisfy({ $0.stringValue != nil || $0.doubleValue != nil }) {
                arguments = items.map { $0.stringValue ?? $0.description }
                if arguments[0].isEmpty { s.issue("command", "the program (its first item) is empty") }
            } else {
                s.issue("command", "must be a non-empty list: the program and its arguments, e.g. [python3, train.py]")
            }
        } else {
            s.issue("command", "is missing: the program and its arguments, e.g. [python3, train.py]")
        }
        mode = s.choice("mode", Mode.perJob)
        passing = s.choice("hyperparameters", HyperparameterPassing.flags)
        let dir = s.string("working_directory") ?? currentDirectory
        workingDirectory = URL(fileURLWithPath: dir, relativeTo: URL(fileURLWithPath: currentDirectory, isDirectory: true)).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: workingDirectory, isDirectory: &isDirectory) || !isDirectory.boolValue {
            s.issue("working_directory", "\(workingDirectory) is not a directory")
        }
        let fixed = s.double("timeout", max: Limits.seconds, above: 0)
        let perUnit = s.double("timeout_per_unit", min: 0, max: Limits.seconds)
        timeout = fixed != nil || perUnit != nil ? JobTimeout(fixed: fixed ?? 0, perUnit: perUnit ?? 0) : nil
        onTimeout = s.choice("on_timeout", OnTimeout.fail)
        if onTimeout == .retry && timeout == nil { s.issue("on_timeout", "retry needs a timeout (trainable.timeout)") }
        environment = [:]
        if let env = s.value("environment") {
            if let members = env.objectMembers {
                for (k, v) in members {
                    if k.isEmpty || k.contains("=") { s.issue("environment", "'\(k)' is not a variable name"); continue }
                    if ChildEnvironment.isLauncherVariable(k) { s.issue("environment", "\(k) belongs to the MPI launcher and is never passed on"); continue }
                    guard let text = v.stringValue ?? (v.doubleValue != nil || v.boolValue != nil ? v.description : nil) else {
                        s.issue("environment", "\(k) must be a string or a number, got \(v.kindName)"); continue
                    }
                    environment[k] = text
                }
            } else {
                s.issue("environment", "must be a mapping of variable names to values")
            }
        }
    }

    /// The program's path as the shell would find it (absolute, or `nil` when it is
    /// not found), for the journal and for a clear error before any job runs.
    public func resolvedProgram(path: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") -> String? {
        guard let program = arguments.first else { return nil }
        if program.contains("/") {
            let url = URL(fileURLWithPath: program, relativeTo: URL(fileURLWithPath: workingDirectory, isDirectory: true)).standardizedFileURL
            return FileManager.default.isExecutableFile(atPath: url.path) ? url.path : nil
        }
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Records in `section` that the program cannot be found or run.
    public func checkProgram(in section: ConfigSection) {
        guard resolvedProgram() == nil, let program = arguments.first else { return }
        section.issue("command", program.contains("/") ? "\(program) is not an executable file (from \(workingDirectory))"
                                                       : "\(program) is not found in PATH")
    }

    /// The program and every argument that names a regular file (relative to the
    /// working directory), with its SHA-256: what exactly the run ran.
    public func fileDigests() -> [(path: String, sha256: String)] {
        var paths: [String] = []
        if let p = resolvedProgram() { paths.append(URL(fileURLWithPath: p).resolvingSymlinksInPath().path) }
        for a in arguments.dropFirst() where !a.hasPrefix("-") {
            let url = URL(fileURLWithPath: a, relativeTo: URL(fileURLWithPath: workingDirectory, isDirectory: true)).standardizedFileURL
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue, !paths.contains(url.path) {
                paths.append(url.path)
            }
        }
        return paths.compactMap { p in (try? SHA256.hexDigest(ofFile: p)).map { (p, $0) } }
    }

    /// What the journal's `run` event records of the program.
    public func runRecord() -> JSONValue {
        .object([("type", .string("command")), ("command", .array(arguments.map(JSONValue.string))),
                 ("mode", .string(mode.rawValue)), ("working_directory", .string(workingDirectory)),
                 ("files", .object(fileDigests().map { ($0.path, .string($0.sha256)) }))])
    }
}

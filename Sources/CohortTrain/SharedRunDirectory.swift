import CohortCluster
import CohortFiles
import Foundation

/// A run directory that rank 0 opens and every rank knows. Rank 0 creates it from a
/// config file (or reopens it for `--resume`) and holds its lock while this value lives;
/// every rank receives the same config text and path, and a bad config or directory ends
/// every rank with the same message (printed once, as a ``UniformError``).
public struct SharedRunDirectory {
    /// The config as the run keeps it (flags already written in).
    public let configText: String
    public let run: RunDirectory
    private let lock: RunLock?

    /// Opens the run. For a new run, `prepare` (rank 0 only) reads the config file at its
    /// path and returns the text to keep and the run's name (the directory is runs/<name>
    /// unless `out` names one); it checks what must be checked before anything is written.
    /// `inputError` turns rank 0's failure into the workload's own error on every rank.
    public static func open(configPath: String?, out: String?, resume: Bool, communicator: Communicator,
                            prepare: (_ configPath: String) throws -> (text: String, name: String),
                            inputError: (String) -> Error) throws -> SharedRunDirectory {
        var message: [String] = []
        var lock: RunLock?
        if communicator.rank == 0 {
            do {
                let run: RunDirectory, text: String
                if resume {
                    guard let out else { throw inputError("--resume needs --out DIR, the run directory to continue") }
                    run = RunDirectory(path: out)
                    text = try run.configTextForResume()
                    lock = try run.lock()
                } else {
                    guard let configPath else { throw inputError("--config is required (or --resume --out DIR)") }
                    let prepared = try prepare(configPath)
                    run = RunDirectory(path: out ?? "runs/\(prepared.name)")
                    text = prepared.text
                    lock = try run.create(configText: text)
                }
                message = ["", text, run.path]
            } catch { message = ["\(error)", "", ""] }
        }
        if communicator.size > 1 { message = try communicator.broadcast(message: communicator.rank == 0 ? message : nil, root: 0) }
        guard message[0].isEmpty else { throw inputError(message[0]) }
        return SharedRunDirectory(configText: message[1], run: RunDirectory(path: message[2]), lock: lock)
    }

    /// The usual `prepare`: the config file with `--seed` written in (so `--resume` needs
    /// no flag), read back by `parse` to check it, and the run's name.
    public static func seeded(_ seed: UInt64?, load: @escaping (String) throws -> (text: String, name: String),
                              parse: @escaping (String) throws -> Void) -> (String) throws -> (text: String, name: String) {
        { path in
            let config = try load(path)
            let text = try ConfigDocument.overriding(config.text, try ConfigDocument.seedOverride(seed))
            try parse(text)
            return (text, config.name)
        }
    }
}

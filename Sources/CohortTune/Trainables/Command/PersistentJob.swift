import CohortFiles
import Foundation

/// One job of a user's program in `persistent` mode: the worker's long-lived process
/// is asked to build the trial, restore, train, evaluate and save, one request each
/// (the messages mirror ``Trainable``). Imports and device start-up happen once
/// per worker, not once per job.
final class PersistentJob: CommandJobBase {
    private var process: ProtocolProcess?
    private var deadline: Date?

    private func remaining() -> Double? { deadline.map { Swift.max(0.001, $0.timeIntervalSinceNow) } }

    /// Sends one request of this job; a dead or killed process fails the job and is
    /// replaced at the next one.
    private func ask(_ op: String, _ fields: [(key: String, value: JSONValue)] = []) throws -> JSONValue {
        let p = try connection()
        do {
            return try p.request(.object([("op", .string(op))] + fields), timeout: remaining())
        } catch let failure as ProtocolProcess.Failure {
            if case .refused = failure {} else { factory.discardProcess(p); process = nil }
            if case .timedOut = failure { asksRetry = factory.spec.onTimeout == .retry }
            throw CommandJobFailure("\(op): \(failure)")
        }
    }

    private func connection() throws -> ProtocolProcess {
        if let process { return process }
        do {
            let p = try factory.persistentProcess(worker: context.worker, run: run, devices: context.deviceEnvironment)
            process = p
            return p
        } catch {
            throw CommandJobFailure("cannot start the worker process: \(error)")
        }
    }

    /// The build request, sent before the first request of the job.
    private func build() throws {
        guard process == nil else { return }
        deadline = factory.limit(for: job).map { Date().addingTimeInterval($0) }
        let logs = try openLogs()
        _ = try ask("build", [("trial", .int(job.trial)), ("rung", .int(job.rung)), ("config", job.config.json),
                              ("seed", .int(seed)), ("stdout", .string(logs.stdout.path)), ("stderr", .string(logs.stderr.path)),
                              ("devices", .string(context.deviceEnvironment["CUDA_VISIBLE_DEVICES"] ?? ""))])
    }

    override func restore(from url: URL, resource: Double) throws {
        try super.restore(from: url, resource: resource)
        // Rank 0 restores only to read the job's recorded result (its test metric).
        guard !context.recordOnly else { return }
        try build()
        _ = try ask("restore", [("dir", .string(url.path)), ("resource", .number(resource))])
    }

    override func train(to resource: Double) throws {
        try build()
        _ = try ask("train", [("resource", .number(resource))])
        trainedResource = resource
        let reply = try ask("evaluate")
        var result: [(key: String, value: JSONValue)] = [("metric", reply["metric"] ?? .null)]
        if let error = reply["error"] { result.append(("error", error)) }
        result += reply["metrics"]?.objectMembers ?? []
        try accept(result: .object(result), from: "the evaluate reply")
    }

    override func save(to url: URL) throws {
        let out = try makeStaging()
        _ = try ask("save", [("dir", .string(out.path))])
        try super.save(to: url)
    }
}

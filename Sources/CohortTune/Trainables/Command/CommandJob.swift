import CohortFiles
import Foundation

/// One job of a user's program in `per_job` mode: the program runs once, from the
/// trial's previous checkpoint (if any) to the job's resource, and reports.
///
/// The program is given the trial's hyperparameters as `--name value` flags (or a
/// JSON file) and its job in `COHORT_*` variables; it writes `{"metric": ...}` to
/// `$COHORT_RESULT` (or prints a last line `cohort-result: {...}`).
final class CommandJob: CommandJobBase {
    /// The prefix of the standard-output line that carries the result when the
    /// program does not write `$COHORT_RESULT`.
    static let resultLinePrefix = "cohort-result:"

    override func train(to resource: Double) throws {
        let spec = factory.spec
        let out = try makeStaging()
        let logs = try openLogs()
        var env = spec.environment
        for (k, v) in context.deviceEnvironment { env[k] = v }
        env["COHORT_TRIAL"] = String(job.trial)
        env["COHORT_RUNG"] = String(job.rung)
        env["COHORT_RESOURCE"] = JSONValue.number(resource).description
        env["COHORT_CHECKPOINT_OUT"] = out.path
        if let checkpointIn, let previousResource {
            env["COHORT_CHECKPOINT_IN"] = checkpointIn.path
            env["COHORT_PREVIOUS_RESOURCE"] = JSONValue.number(previousResource).description
        }
        env["COHORT_SEED"] = String(seed)
        env["COHORT_RESULT"] = resultURL.path
        env["COHORT_WORKER"] = String(context.worker)
        env["COHORT_RUN_DIR"] = run.url.path
        var arguments = spec.arguments
        switch spec.passing {
        case .flags:
            arguments += CommandTrainableFactory.flags(job.config)
        case .json:
            let url = run.jobFile(trial: job.trial, rung: job.rung, "config.json")
            try AtomicFile.write(job.config.json, to: url)
            env["COHORT_HYPERPARAMETERS"] = url.path
        }
        let command = ChildProcess.Command(arguments: arguments, workingDirectory: spec.workingDirectory,
                                           environment: ChildEnvironment.make(extra: env),
                                           stdoutPath: logs.stdout.path, stderrPath: logs.stderr.path)
        let child = try ChildProcess.launch(command)
        let termination = child.wait(timeout: factory.limit(for: job))
        guard termination.succeeded else {
            if case .timedOut = termination { asksRetry = spec.onTimeout == .retry }
            throw failure("the program \(termination)", stderrFrom: logs.stderrOffset)
        }
        if let data = FileManager.default.contents(atPath: resultURL.path) {
            let text = String(decoding: data, as: UTF8.self)
            try accept(result: try Self.parseResult(text, source: "$COHORT_RESULT"), from: "$COHORT_RESULT", store: false)
        } else if let line = Self.resultLine(inFile: logs.stdout.path) {
            try accept(result: try Self.parseResult(line, source: "the cohort-result line"), from: "the cohort-result line")
        } else {
            throw failure("the program exited 0 without a result (write {\"metric\": ...} to $COHORT_RESULT, or print a line 'cohort-result: {\"metric\": ...}')",
                          stderrFrom: logs.stderrOffset)
        }
        trainedResource = resource
    }

    private func failure(_ what: String, stderrFrom offset: UInt64) -> CommandJobFailure {
        let err = ProtocolProcess.tail(ofFile: run.jobFile(trial: job.trial, rung: job.rung, "stderr").path, from: offset, lines: 15)
        return CommandJobFailure(err.isEmpty ? what : "\(what); its stderr ends:\n\(err)")
    }

    /// A result object; `NaN` or `Infinity` written by a JSON library that allows
    /// them is a non-finite metric, not unreadable JSON.
    static func parseResult(_ text: String, source: String) throws -> JSONValue {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let json = try? JSONValue.parse(trimmed) { return json }
        for token in ["-Infinity", "Infinity", "NaN"] where trimmed.contains(token) {
            if trimmed.range(of: #""metric"\s*:\s*"# + NSRegularExpression.escapedPattern(for: token), options: .regularExpression) != nil {
                throw CommandJobFailure("metric is \(token == "NaN" ? "nan" : token == "Infinity" ? "inf" : "-inf")")
            }
        }
        throw CommandJobFailure("\(source) is not JSON: \(trimmed.prefix(200))")
    }

    /// The payload of the last `cohort-result:` line of a log (its last 64 KiB).
    static func resultLine(inFile path: String) -> String? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        let end = (try? h.seekToEnd()) ?? 0
        try? h.seek(toOffset: end > 65_536 ? end - 65_536 : 0)
        let text = String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
        // Only what this attempt printed: after the last header line.
        let attempt = text.range(of: "\n== trial ", options: .backwards).map { String(text[$0.upperBound...]) } ?? text
        return attempt.split(separator: "\n").last { $0.hasPrefix(resultLinePrefix) }
            .map { String($0.dropFirst(resultLinePrefix.count)) }
    }
}

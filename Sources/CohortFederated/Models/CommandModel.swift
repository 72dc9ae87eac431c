import CohortData
import CohortFiles
import CohortTensor
import CohortTune
import Foundation

/// A user's model in federated rounds (`model: {type: command, command: [...]}`): one
/// long-lived process per rank, speaking the JSON-lines protocol of ``ProtocolProcess``
/// with the `fed_*` requests, so FedAvg, FedProx's mu, the server optimizers and FedEx
/// work with a model defined in Python (or anything else).
///
/// ```yaml
/// model:
///   type: command
///   command: [python3, my_model.py]
///   working_directory: .      # default: where cohort was started
///   timeout: 600              # seconds one request may take
///   environment: {OMP_NUM_THREADS: 1}
/// ```
///
/// Parameters travel as raw little-endian float32 files in a scratch directory
/// (in memory, under /dev/shm, where there is one); each client's data is written
/// there once and named by an id. Cohort decides the minibatches (the same
/// ``MinibatchSampler`` streams as the built-in models), so a program that computes
/// what a built-in model computes gives its numbers up to float rounding.
public struct CommandModelFactory: FederatedModelFactory {
    public let spec: CommandSpec
    public var name: String { "command(\(spec.arguments.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: " ")))" }

    public init(spec model: FederatedModelSpec) throws {
        let issues = ConfigIssues()
        let section = ConfigSection(.object(model.fields), path: "model", issues: issues) ?? ConfigSection(emptyAt: "model", issues: issues)
        for key in ["mode", "hyperparameters", "on_timeout", "timeout_per_unit"] where section.has(key) {
            section.issue(key, "is a setting of cohort tune's command trainable; cohort fed always runs one persistent process per rank")
        }
        spec = CommandSpec(section: section)
        section.finish(also: ["type"])
        if issues.isEmpty { spec.checkProgram(in: section) }
        try issues.throwIfAny()
    }

    public func makeModel(sampleShape: [Int], classCount: Int) throws -> FederatedModel {
        try CommandModel(spec: spec, sampleShape: sampleShape, classCount: classCount)
    }

    public func makeModel(sampleShape: [Int], classCount: Int, run: RunDirectory, rank: Int) throws -> FederatedModel {
        let model = try CommandModel(spec: spec, sampleShape: sampleShape, classCount: classCount)
        model.logsGoTo = (run, rank)
        return model
    }
}

/// One rank's connection to its model process.
public final class CommandModel: FederatedModel {
    public let parameterCount: Int
    private let process: ProtocolProcess
    private let scratch: URL
    private let parametersFile: URL
    private let storage: UnsafeMutableBufferPointer<Float>
    private let timeout: Double?
    /// Data sets already written to the scratch directory, by the address of their
    /// feature storage (a client's data does not move while the run lives).
    private var sent: [DataKey: Int] = [:]

    private struct DataKey: Hashable { var address: UInt; var count: Int }

    public init(spec: CommandSpec, sampleShape: [Int], classCount: Int) throws {
        let shm = URL(fileURLWithPath: "/dev/shm")
        let base = FileManager.default.isWritableFile(atPath: shm.path) ? shm : FileManager.default.temporaryDirectory
        CommandModel.removeAbandonedScratch(in: base)
        scratch = base.appendingPathComponent("\(CommandModel.scratchPrefix)\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        parametersFile = scratch.appendingPathComponent("parameters.f32")
        timeout = spec.timeout?.fixed
        let command = ChildProcess.Command(arguments: spec.arguments, workingDirectory: spec.workingDirectory,
                                           environment: ChildEnvironment.make(extra: spec.environment),
                                           stdoutPath: scratch.appendingPathComponent("stdout").path,
                                           stderrPath: scratch.appendingPathComponent("stderr").path)
        do {
            process = try ProtocolProcess(command, startTimeout: spec.timeout.map { Swift.max($0.fixed, 60) } ?? 600)
            let reply = try process.request(.object([("op", .string("fed_model")), ("sample_shape", .array(sampleShape.map(JSONValue.int))),
                                                     ("classes", .int(classCount))]), timeout: timeout)
            guard let n = reply["parameters"]?.intValue, n > 0, n <= Limits.elements else {
                throw FederatedError.invalidValue(field: "model", message: "the model process must answer fed_model with a positive parameter count, got \(reply["parameters"]?.description ?? "none")")
            }
            parameterCount = n
        } catch let error as ProtocolProcess.Failure {
            try? FileManager.default.removeItem(at: scratch)
            throw FederatedError.invalidValue(field: "model", message: Self.oneLine(error))
        }
        storage = .allocate(capacity: parameterCount)
        storage.initialize(repeating: 0)
    }

    /// This host's scratch directories are named by the pid that made them.
    static var scratchPrefix: String { "cohort-model-\(ProcessInfo.processInfo.hostName)-" }

    /// Removes what ranks killed before their cleanup left: scratch directories
    /// (copies of client data, in memory under /dev/shm) of pids no longer running.
    static func removeAbandonedScratch(in base: URL) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? [] where name.hasPrefix(scratchPrefix) {
            guard let pid = Int32(name.dropFirst(scratchPrefix.count).prefix { $0 != "-" }), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(at: base.appendingPathComponent(name)) }
        }
    }

    /// Where the program's output is kept when the run ends: `workers/rank-R.stdout`
    /// (and `.stderr`) in the run directory, appended to what earlier sessions kept.
    var logsGoTo: (run: RunDirectory, rank: Int)?

    deinit {
        process.stop()
        storage.deallocate()
        keepLogs()
        try? FileManager.default.removeItem(at: scratch)
    }

    /// Appends the program's output to the run directory (which rank 0 creates only
    /// after every rank has built its model, so the output waits in the scratch
    /// directory until the end).
    private func keepLogs() {
        guard let (run, rank) = logsGoTo, run.exists else { return }
        let folder = run.file("workers")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for stream in ["stdout", "stderr"] {
            guard let data = FileManager.default.contents(atPath: scratch.appendingPathComponent(stream).path), !data.isEmpty else { continue }
            try? LogFile.append([UInt8](data), to: folder.appendingPathComponent("rank-\(rank).\(stream)"))
        }
    }

    public var parameters: UnsafeMutableBufferPointer<Float> { storage }

    private func ask(_ op: String, _ fields: [(key: String, value: JSONValue)]) throws -> JSONValue {
        do {
            return try process.request(.object([("op", .string(op))] + fields), timeout: timeout)
        } catch {
            throw FederatedError.invalidValue(field: "model", message: "\(op): \(Self.oneLine(error))")
        }
    }

    /// An error as one line: its first line and, when there are more, the last one
    /// (a traceback's exception, the end of a stderr).
    static func oneLine(_ error: Error) -> String {
        let lines = "\(error)".split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let first = lines.first else { return "\(error)" }
        return lines.count > 1 && lines.last != first ? "\(first) ... \(lines.last!)" : first
    }

    private func writeParameters(_ values: UnsafeBufferPointer<Float>, to url: URL) throws {
        try Data(buffer: values).write(to: url)
    }

    private func readParameters() throws {
        let data = try Data(contentsOf: parametersFile)
        guard data.count == parameterCount * MemoryLayout<Float>.size else {
            throw FederatedError.invalidValue(field: "model", message: "the model process left \(data.count) bytes of parameters, expected \(parameterCount * 4)")
        }
        _ = data.withUnsafeBytes { storage.update(fromContentsOf: $0.bindMemory(to: Float.self)) }
    }

    /// The id of `data` in the model process, writing it there the first time.
    private func dataID(_ data: Dataset) throws -> Int {
        let key = data.features.withUnsafeBufferPointer { DataKey(address: UInt(bitPattern: $0.baseAddress), count: $0.count) }
        if let id = sent[key] { return id }
        let id = sent.count
        let features = scratch.appendingPathComponent("data-\(id).f32"), labels = scratch.appendingPathComponent("data-\(id).labels.i32")
        try data.features.withUnsafeBufferPointer { try Data(buffer: $0).write(to: features) }
        try data.labels.withUnsafeBufferPointer { try Data(buffer: $0).write(to: labels) }
        _ = try ask("fed_data", [("id", .int(id)), ("features", .string(features.path)), ("labels", .string(labels.path)),
                                 ("count", .int(data.count)), ("sample_shape", .array(data.sampleShape.map(JSONValue.int))),
                                 ("classes", .int(data.classCount))])
        sent[key] = id
        return id
    }

    public func initializeParameters(_ stream: RandomStream) {
        var s = stream
        let seed = s.next() & 0x7FFF_FFFF
        do {
            _ = try ask("fed_init", [("seed", .int(Int(seed))), ("parameters", .string(parametersFile.path))])
            try readParameters()
        } catch {
            // Initialization cannot throw in the protocol; a model that cannot start
            // fails at its first training request with this message.
            initializationError = error
        }
    }

    private var initializationError: Error?

    public func train(on data: Dataset, plan: LocalTrainingPlan) throws -> LocalTrainingReport {
        if let initializationError { throw initializationError }
        let id = try dataID(data)
        let hp = plan.hyperparameters
        var sampler = try FederatedError.wrappingDataErrors {
            try MinibatchSampler(sampleCount: data.count, batchSize: hp.batchSize, seed: plan.seed, stream: plan.stream)
        }
        var batches: [JSONValue] = []
        for epoch in 0 ..< plan.epochs {
            sampler.startEpoch(epoch)
            for b in 0 ..< sampler.batchCount { batches.append(.array(sampler.batchIndices(b).map(JSONValue.int))) }
        }
        try writeParameters(UnsafeBufferPointer(storage), to: parametersFile)
        let anchorFile = scratch.appendingPathComponent("anchor.f32")
        if hp.proximalMu > 0 { try writeParameters(plan.anchor, to: anchorFile) }
        let reply = try ask("fed_train", [
            ("data", .int(id)), ("parameters", .string(parametersFile.path)),
            ("anchor", hp.proximalMu > 0 ? .string(anchorFile.path) : .null),
            ("learning_rate", .double(hp.learningRate)), ("momentum", .double(hp.momentum)), ("weight_decay", .double(hp.weightDecay)),
            ("batch_size", .int(hp.batchSize)), ("mu", .double(hp.proximalMu)), ("epochs", .int(plan.epochs)),
            ("batches", .array(batches)), ("seed", .int(Int(plan.seed & 0x7FFF_FFFF))),
            ("stream", .array(plan.stream.map { .int(Int(truncatingIfNeeded: $0)) })),
        ])
        if reply["diverged"]?.boolValue == true { throw LocalTrainingDiverged() }
        try readParameters()
        guard let lossSum = reply["loss_sum"]?.doubleValue, let steps = reply["steps"]?.intValue else {
            throw FederatedError.invalidValue(field: "model", message: "fed_train: the answer needs loss_sum and steps")
        }
        guard lossSum.isFinite else { throw LocalTrainingDiverged() }
        return LocalTrainingReport(lossSum: lossSum, steps: steps)
    }

    public func evaluate(on data: Dataset) throws -> EvaluationSums {
        if let initializationError { throw initializationError }
        let id = try dataID(data)
        try writeParameters(UnsafeBufferPointer(storage), to: parametersFile)
        let reply = try ask("fed_evaluate", [("data", .int(id)), ("parameters", .string(parametersFile.path))])
        guard let lossSum = reply["loss_sum"]?.doubleValue, let correct = reply["correct"]?.intValue, let count = reply["count"]?.intValue else {
            throw FederatedError.invalidValue(field: "model", message: "fed_evaluate: the answer needs loss_sum, correct and count")
        }
        return EvaluationSums(lossSum: lossSum, correct: correct, count: count)
    }
}

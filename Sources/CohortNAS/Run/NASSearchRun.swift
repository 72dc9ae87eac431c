import CohortFiles
import CohortCluster
import CohortTensor
import CohortTune
import Foundation

private typealias K = NASRunFiles.Key

/// `cohort nas search` as a library call: every rank calls it with the same config.
///
/// 1. Checks the input on every rank (config against the rank count; rank 0 checks the
///    run directory and broadcasts its verdict), loads the data, then rank 0 creates
///    the run directory with a copy of the config.
/// 2. Trains the supernet data-parallel (`SupernetSearch`), comparing every rank's
///    weights every `search.verifyEvery` steps; rank 0 logs epochs, architecture
///    weights (GAEA, DARTS) or sampled architectures (RSWS), and saves the supernet.
/// 3. Ranks candidates with the shared weights: RSWS's scoring rounds, or the cell
///    GAEA's or DARTS' weights point at, scored on the validation split.
/// 4. Retrains the candidates from scratch as job-farm jobs (`RetrainingFarm`) and
///    chooses the one with the best validation accuracy after retraining.
/// 5. Rank 0 writes `candidates.json`, `chosen.json`, `retrained.safetensors`,
///    `retrained.json` and `summary.json`; every rank returns the same outcome.
public enum NASSearchRun {
    public struct Options: Sendable {
        public var config: NASConfig
        /// The run directory (default `runs/<name>`); it must not exist or be empty.
        public var out: String?
        /// Whether to retrain candidates from scratch (off for quick checks).
        public var retrain = true

        public init(config: NASConfig, out: String? = nil, retrain: Bool = true) {
            self.config = config
            self.out = out
            self.retrain = retrain
        }

        var runDirectory: URL { URL(fileURLWithPath: out ?? "runs/\(config.name)").standardizedFileURL }
    }

    public struct Outcome: Sendable {
        public var runDirectory: URL
        public var supernet: SupernetReport
        /// Best first.
        public var candidates: [CandidateScore]
        /// Rank 0 only: every retrained candidate (`nil` without retraining).
        public var retrained: [RetrainedCandidate]?
        public var chosen: CellArchitecture
        public var chosenValidationAccuracy: Double?
        public var chosenTestAccuracy: Double?
        public var scoringSeconds: Double
        public var retrainSeconds: Double?
        public var totalSeconds: Double
        /// Rank 0 only: the closing table.
        public var summary: String
    }

    public static func run(_ options: Options, communicator: Communicator,
                           log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws -> Outcome {
        let config = options.config
        let started = DispatchTime.now().uptimeNanoseconds
        let root = communicator.rank == 0
        try config.validate(ranks: communicator.size)
        let directory = options.runDirectory
        let run = RunDirectory(directory)
        var verdict = ""
        if root {
            do { try run.requireFresh(resumable: false) } catch { verdict = "\(error)" }
        }
        if communicator.size > 1 { verdict = try communicator.broadcast(message: root ? verdict : nil, root: 0) }
        guard verdict.isEmpty else { throw NASInputError(verdict) }
        let data = try NASData.search(config)

        var recorder: RunRecorder?
        var runLock: RunLock?
        if root {
            do {
                runLock = try run.create(configText: config.sourceText, checkpoints: false)
            } catch {
                throw NASInputError("\(error)")
            }
            recorder = RunRecorder(run: run)
            log("searching with \(config.strategy.rawValue) on \(config.dataset): supernet of \(config.network.channels) channels, cells \(config.network.cellsPerStage), "
                + "\(data.train.count) training / \(data.validation.count) validation samples, \(config.search.epochs) epochs of batch \(config.search.batchSize), "
                + "seed \(config.seed), \(communicator.size) rank(s), BLAS \(BLASRuntime.coreName)")
        }

        // Supernet training.
        let search = try SupernetSearch(config: config, data: data, communicator: communicator, recorder: recorder)
        let supernet = try search.train { e in
            guard root else { return }
            var line = String(format: "supernet epoch %d/%d  loss %.4f  acc %.4f  %.1f steps/s  %.1f s  lr %.4g",
                              e.epoch, e.epochs, e.loss, e.accuracy, e.stepsPerSecond, e.seconds, Double(e.learningRate))
            if let d = e.derived { line += "  derived \(d)" }
            if let v = e.validationAccuracy { line += String(format: "  supernet validation acc %.4f", v) }
            log(line)
        }
        if root, let epoch = supernet.derivedEpoch, epoch != supernet.epochs.count, let d = supernet.derived {
            log("returning the cell of epoch \(epoch), the best supernet validation accuracy: \(d)")
        }
        if root { try search.checkpoint().write(to: directory.appendingPathComponent(NASRunFiles.supernet)) }

        // Candidates, scored with the shared weights.
        let scoringStarted = DispatchTime.now().uptimeNanoseconds
        let scoring = CandidateScoring(trainer: search.trainer, validation: data.validation, communicator: communicator,
                                       seed: config.seed, batchSize: config.scoringBatchSize)
        let candidates: [CandidateScore]
        if config.strategy == .rsws {
            candidates = try scoring.randomSearch(config.rsws, recorder: recorder)
        } else {
            let derived = supernet.derived!.canonical
            let s = try scoring.scoreOnValidation([derived])[0]
            candidates = [CandidateScore(architecture: derived, round: 0, validationAccuracy: s.accuracy, validationLoss: s.loss)]
        }
        let scoringSeconds = Double(DispatchTime.now().uptimeNanoseconds - scoringStarted) / 1e9
        if root {
            try recorder?.write(.array(candidates.map(\.json)), to: NASRunFiles.candidates)
            log(String(format: "scored candidates in %.1f s; best with shared weights: %@ (validation accuracy %.4f)",
                       scoringSeconds, candidates[0].architecture.nasBench201String, candidates[0].validationAccuracy))
        }

        // Retraining from scratch on the job farm.
        var retrained: [RetrainedCandidate]?
        var retrainSeconds: Double?
        if options.retrain {
            let toRetrain = Array(candidates.prefix(config.strategy == .rsws ? config.retrain.top : 1)).map(\.architecture)
            let retrainStarted = DispatchTime.now().uptimeNanoseconds
            let silent: @Sendable (String) -> Void = { _ in }
            let farmLog = root ? log : silent
            retrained = try RetrainingFarm.run(toRetrain, config: config, directory: directory.appendingPathComponent(NASRunFiles.retrainDirectory),
                                               communicator: communicator, log: farmLog)
            retrainSeconds = Double(DispatchTime.now().uptimeNanoseconds - retrainStarted) / 1e9
        }

        // The choice, made on rank 0 and shared.
        var chosenMessage = ChosenMessage(architecture: candidates[0].architecture.nasBench201String, validation: nil, test: nil)
        if root, let retrained {
            let done = retrained.filter { $0.validationAccuracy != nil }
            if let best = done.max(by: { ($0.validationAccuracy!, -$0.trial) < ($1.validationAccuracy!, -$1.trial) }) {
                chosenMessage = ChosenMessage(architecture: best.architecture.nasBench201String, validation: best.validationAccuracy,
                                              test: best.testAccuracy)
            }
        }
        if communicator.size > 1 { chosenMessage = try communicator.broadcast(message: root ? chosenMessage : nil, root: 0) }
        let chosen = try CellArchitecture(parsing: chosenMessage.architecture, requireConnected: false)
        let total = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9

        var outcome = Outcome(runDirectory: directory, supernet: supernet, candidates: candidates, retrained: retrained, chosen: chosen,
                              chosenValidationAccuracy: chosenMessage.validation, chosenTestAccuracy: chosenMessage.test,
                              scoringSeconds: scoringSeconds, retrainSeconds: retrainSeconds, totalSeconds: total, summary: "")
        if root, let recorder {
            try writeResults(outcome, config: config, recorder: recorder)
            outcome.summary = NASSummary.render(outcome, config: config)
        }
        withExtendedLifetime(runLock) {}
        return outcome
    }

    struct ChosenMessage: Codable {
        var architecture: String
        var validation: Double?
        var test: Double?
    }

    // MARK: Results (rank 0)

    private static func writeResults(_ o: Outcome, config: NASConfig, recorder: RunRecorder) throws {
        let chosenRetrained = o.retrained?.first { $0.architecture == o.chosen && $0.validationAccuracy != nil }
        let shared = o.candidates.first { $0.architecture == o.chosen }
        var chosen: [(key: String, value: JSONValue)] = [
            (K.strategy, .string(config.strategy.rawValue)), (K.seed, .int(Int(config.seed))), (K.architecture, o.chosen.json),
        ]
        if let shared { chosen.append(("shared_weights", shared.json)) }
        if let weights = o.supernet.architectureWeights {
            chosen.append(("architecture_weights", .array(weights.map { .array($0.map(JSONValue.double)) })))
            chosen.append(("derived_without_none", .bool(o.supernet.derivedExcludedNone)))
        }
        if let r = chosenRetrained { chosen.append((K.retrained, r.json)) }
        chosen.append(("chosen_by", .string(chosenRetrained != nil ? "validation accuracy after retraining" : "validation accuracy with the shared weights")))
        try recorder.write(.object(chosen), to: NASRunFiles.chosen)

        if let r = chosenRetrained {
            let target = recorder.url(NASRunFiles.retrained)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: r.checkpoint, to: target)
            try recorder.write(.object([(K.architecture, .string(r.architecture.nasBench201String)),
                                        ("epochs", .int(config.retrain.epochs)),
                                        (K.validationAccuracy, r.validationAccuracy.map(JSONValue.double) ?? .null),
                                        (K.testAccuracy, r.testAccuracy.map(JSONValue.double) ?? .null),
                                        (K.trainSeconds, r.trainSeconds.map(JSONValue.double) ?? .null),
                                        (K.checkpoint, .string(NASRunFiles.retrained))]),
                               to: NASRunFiles.retrainedReport)
        }
        try recorder.write(summaryJSON(o, config: config), to: NASRunFiles.summary)
    }

    static func summaryJSON(_ o: Outcome, config: NASConfig) -> JSONValue {
        let s = o.supernet
        var m: [(key: String, value: JSONValue)] = [
            (K.strategy, .string(config.strategy.rawValue)), (K.seed, .int(Int(config.seed))), (K.ranks, .int(s.ranks)),
            (K.supernetParameters, .int(s.parameterCount)), (K.supernetSteps, .int(s.steps)),
            (K.supernetSeconds, .double(s.seconds)), (K.supernetStepsPerSecond, .double(s.stepsPerSecond)),
            (K.scoringSeconds, .double(o.scoringSeconds)), (K.replicaChecks, .int(s.replicaChecks)),
            (K.supernetDigest, .string(s.digest)),
        ]
        if let d = s.architectureDigest { m.append((K.architectureWeightsDigest, .string(d))) }
        m.append((K.chosen, .string(o.chosen.nasBench201String)))
        if let v = o.chosenValidationAccuracy { m.append((K.chosenValidationAccuracy, .double(v))) }
        if let t = o.chosenTestAccuracy { m.append((K.chosenTestAccuracy, .double(t))) }
        if let r = o.retrainSeconds { m.append((K.retrainSeconds, .double(r))) }
        if let cost = searchCost(o) {
            m += [(K.oneArchitectureSeconds, .double(cost.oneArchitecture)), (K.searchRankSeconds, .double(cost.searchRankSeconds)),
                  (K.searchCostInTrainings, .double(cost.multiple))]
        }
        m.append((K.totalSeconds, .double(o.totalSeconds)))
        if let retrained = o.retrained { m.append((K.retrained, .array(retrained.map(\.json)))) }
        return .object(m)
    }

    /// The search's cost (supernet training and scoring, in rank-seconds) as a multiple
    /// of training one architecture from scratch (the mean over retrained candidates,
    /// on one rank), as the RSWS paper states search costs.
    static func searchCost(_ o: Outcome) -> (oneArchitecture: Double, searchRankSeconds: Double, multiple: Double)? {
        let times = (o.retrained ?? []).compactMap(\.trainSeconds)
        guard !times.isEmpty else { return nil }
        let one = times.reduce(0, +) / Double(times.count)
        let rankSeconds = (o.supernet.seconds + o.scoringSeconds) * Double(o.supernet.ranks)
        return (one, rankSeconds, rankSeconds / Swift.max(one, 1e-9))
    }
}

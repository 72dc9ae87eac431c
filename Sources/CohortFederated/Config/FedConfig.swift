import CohortFiles
import CohortTune
import Foundation

/// A whole `cohort fed` config, validated.
///
/// ```yaml
/// name: fedavg-synthetic           # run name; default run directory runs/<name>
/// seed: 0                          # experiment seed
/// rounds: 200
/// data: {source: synthetic, alpha: 1, beta: 1}      # see DataSpec
/// model: {type: logistic}                            # see the model catalog
/// sampling:
///   clients_per_round: 10          # and/or fraction: 0.1
///   drop_rate: 0.0                 # share of sampled clients that straggle
///   stragglers: drop               # drop | partial_work (FedProx)
///   partial_work_epochs: up_to_e   # a straggler's epochs: up_to_e (1..E, the paper) or
///                                  #   below_e (1..E-1, FedProx's reference code)
///   with_replacement: false        # true: each of a round's clients drawn independently
///                                  #   (FedEx's reference code); needs drop_rate 0
/// local:                           # each client's training
///   lr: 0.01
///   momentum: 0.0
///   weight_decay: 0.0
///   epochs: 20
///   batch_size: 10
///   mu: 0.0                        # FedProx proximal coefficient
/// server:
///   optimizer: sgd                 # sgd | adagrad | adam | yogi
///   lr: 1.0                        # sgd with lr 1 and no momentum is FedAvg
///   momentum: 0.0
///   decay: 1.0                     # lr multiplied by this every round
///   beta1: 0.9                     # adaptive optimizers
///   beta2: 0.99
///   tau: 0.001
/// evaluation:
///   every: 10                      # rounds between evaluations (and after the last)
///   fine_tune_configuration: most_likely  # fine-tuning with FedEx's most likely configuration,
///                                  #   or sampled: each client draws one from theta (the
///                                  #   reference's test-time default)
///   fine_tune: false               # also score each arm's final model fine-tuned on every
///                                  # client with the tuned local configuration
/// fedex: ...                       # optional; see FedExSpec
/// search: ...                      # optional; see SearchSpec
/// ```
public struct FedConfig: Sendable {
    public var name: String
    public var seed: UInt64
    public var data: DataSpec
    public var model: FederatedModelSpec
    /// Settings every arm starts from (arm 0, no FedEx space resolved yet).
    public var base: RoundSettings
    public var fedex: FedExSpec?
    public var search: SearchSpec?
    /// The text the config was read from (copied into the run directory).
    public var sourceText: String

    /// The settings of arm `arm` with the search's sampled values applied.
    public func settings(arm: Int, searchConfig: TrialConfig?) throws -> RoundSettings {
        var settings = base
        settings.arm = arm
        settings.scoresClientsAfterTraining = search?.armScore == .trainingRounds
        if let searchConfig { settings = try SearchSpec.apply(searchConfig, to: settings) }
        if let fedex {
            settings.fedex = FedExSetup(space: try fedex.space(arm: arm, seed: seed, base: settings.local),
                                        settings: fedex.settings(arm: arm, seed: seed), validationLoss: fedex.validationLoss,
                                        reportsDifference: fedex.reportsDifference)
        }
        return settings
    }

    // MARK: Loading

    /// Reads and validates a config file; every problem in one message.
    public static func load(path: String) throws -> FedConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FederatedError.badData(path: path, message: "cannot be read (no such file, or no permission)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw FederatedError.badData(path: path, message: "is not UTF-8 text")
        }
        let defaultName = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try parse(text, source: URL(fileURLWithPath: path).lastPathComponent, defaultName: defaultName)
    }

    /// Parses and validates a config; throws a ``ConfigError`` listing every problem.
    public static func parse(_ text: String, source: String = "config", defaultName: String = "fed") throws -> FedConfig {
        let document = try ConfigDocument.parse(text, source: source)
        let issues = ConfigIssues()
        guard let top = ConfigSection(document, path: "", issues: issues, required: true) else { throw ConfigError(issues.list) }
        top.finish(also: ["name", "seed", "rounds", "data", "model", "sampling", "local", "server", "evaluation", "fedex", "search"])

        var name = defaultName
        if let n = top.string("name") {
            if !n.isEmpty, !n.contains("/"), n != ".", n != ".." { name = n } else { issues.add("name", "must be a non-empty name without '/'") }
        }
        var seed: UInt64 = 0
        if let s = top.int("seed") {
            if s >= 0 { seed = UInt64(s) } else { issues.add("seed", "must be a non-negative integer, got \(s)") }
        }
        let rounds = top.int("rounds")
        if rounds == nil { issues.add("rounds", "is missing (how many rounds to train)") }
        if let rounds, rounds < 1 { issues.add("rounds", "must be at least 1, got \(rounds)") }

        let data = top.section("data", required: true, hint: "source: synthetic, digits, fashion-mnist, mnist, leaf or a path")
            .flatMap { DataSpec.parse($0, experimentSeed: seed) }

        var model: FederatedModelSpec?
        if let m = top.section("model", required: true, hint: "type: logistic or mlp") {
            if let type = m.string("type") { model = FederatedModelSpec(type: type, fields: m.members) } else {
                issues.add("model.type", "is missing (logistic or mlp)")
            }
        }

        var sampling = ClientSampling()
        if let s = top.section("sampling", required: true, hint: "clients_per_round and/or fraction") {
            s.finish(also: ["clients_per_round", "fraction", "drop_rate", "stragglers", "partial_work_epochs", "with_replacement"])
            sampling.clientsPerRound = s.int("clients_per_round")
            sampling.fraction = s.double("fraction")
            sampling.dropRate = s.double("drop_rate", default: 0)
            sampling.stragglers = s.choice("stragglers", StragglerPolicy.drop)
            sampling.partialWorkEpochs = s.choice("partial_work_epochs", PartialWorkEpochs.upToE)
            sampling.withReplacement = s.bool("with_replacement", default: false)
            if sampling.withReplacement && sampling.dropRate > 0 {
                issues.add("sampling.with_replacement", "cannot be combined with drop_rate > 0 (stragglers are drawn among distinct clients)")
            }
            if s.has("partial_work_epochs") && sampling.stragglers != .partialWork {
                issues.add("sampling.partial_work_epochs", "applies only with stragglers: partial_work")
            }
            if sampling.clientsPerRound == nil && sampling.fraction == nil {
                issues.add("sampling", "give clients_per_round, fraction, or both")
            }
            if let n = sampling.clientsPerRound, n < 1 { issues.add("sampling.clients_per_round", "must be at least 1, got \(n)") }
            if let f = sampling.fraction, !(f > 0 && f <= 1) { issues.add("sampling.fraction", "must be in (0, 1], got \(f)") }
            s.check { try FederatedError.requireFraction(sampling.dropRate, "sampling.drop_rate") }
        }

        var local = LocalHyperparameters()
        if let l = top.section("local") {
            l.finish(also: LocalHyperparameters.names)
            for (key, _) in l.members where LocalHyperparameters.names.contains(key) {
                guard let value = l.double(key) else { continue }
                l.check { local = try local.setting(key, to: value, field: "local") }
            }
        }

        var server = ServerOptimizerSettings()
        if let s = top.section("server") {
            s.finish(also: ["type", "learning_rate", "momentum", "decay", "beta1", "beta2", "tau"])
            server.kind = s.choice("type", ServerOptimizerSettings.Kind.sgd)
            server.learningRate = s.double("learning_rate", default: server.learningRate)
            server.momentum = s.double("momentum", default: server.momentum)
            server.decay = s.double("decay", default: server.decay)
            server.beta1 = s.double("beta1", default: server.beta1)
            server.beta2 = s.double("beta2", default: server.beta2)
            server.tau = s.double("tau", default: server.tau)
            s.check { try server.validate() }
        }

        var every = 1
        var fineTune = false
        var fineTuneConfiguration = FineTuneConfiguration.mostLikely
        if let e = top.section("evaluation") {
            e.finish(also: ["every", "fine_tune", "fine_tune_configuration"])
            every = e.int("every", default: 1)
            if every < 1 { issues.add("evaluation.every", "must be at least 1, got \(every)") }
            fineTune = e.bool("fine_tune", default: false)
            fineTuneConfiguration = e.choice("fine_tune_configuration", FineTuneConfiguration.mostLikely)
        }

        let base = RoundSettings(rounds: rounds ?? 1, sampling: sampling, local: local, server: server,
                                 evaluateEvery: every, seed: seed, fineTuneForEvaluation: fineTune,
                                 fineTuneConfiguration: fineTuneConfiguration)
        let fedex = top.section("fedex").flatMap { FedExSpec.parse($0, base: local) }
        let search = top.section("search").flatMap { SearchSpec.parse($0, rounds: rounds ?? 1, base: base) }

        guard issues.isEmpty, let data, let model, rounds != nil else {
            throw ConfigError(issues.list)
        }
        return FedConfig(name: name, seed: seed, data: data, model: model, base: base, fedex: fedex, search: search,
                         sourceText: text)
    }
}

import CohortFiles
import CohortTune

/// The `search:` section: an outer search over server (and, for a baseline, local)
/// hyperparameters, each arm a whole federated run with its own FedEx.
///
/// ```yaml
/// search:
///   type: sha                      # random | sha
///   arms: 9                        # configurations to try
///   eta: 3                         # sha: keep the best 1/eta at each rung
///   arm_score: evaluation          # evaluation: the global model's error on the pooled validation
///                                  #   samples after the arm's rounds; training_rounds: the last
///                                  #   round's sampled clients' validation error after local
///                                  #   training, no extra evaluation, and the best arm is the best
///                                  #   score of any rung (FedEx's reference code)
///   min_rounds: 25                 # sha: rounds at rung 0; rung k runs min_rounds * eta^k, so the top
///                                  #   rung runs min_rounds * eta^floor(log_eta(rounds / min_rounds)),
///                                  #   which is below `rounds` unless rounds / min_rounds is a power of eta
///   space:                         # names are server.<setting> or local.<hyperparameter>
///     server.lr: {type: loguniform, low: 0.1, high: 10.0}
///     server.momentum: {type: choice, values: [0.0, 0.9]}
///     server.decay: {type: choice, values: [1.0, 0.999]}
/// ```
///
/// Arms are scored by the error of the global model on the clients' pooled validation
/// samples (lower is better). Successive halving runs brackets of `eta^(rungs - 1)`
/// arms (so one arm reaches the top rung; rungs = floor(log_eta(rounds / min_rounds)) + 1)
/// until `arms` have started, as CohortTune's scheduler does.
public struct SearchSpec: Equatable, Sendable {
    public enum Kind: String, Sendable, CaseIterable { case random, sha }

    /// How an arm is scored.
    public enum ArmScore: String, Sendable, CaseIterable {
        case evaluation
        case trainingRounds = "training_rounds"
    }

    public var kind: Kind
    public var armScore: ArmScore = .evaluation
    public var arms: Int
    public var eta: Int
    public var minRounds: Int
    public var space: SearchSpace

    /// The scheduler deciding which arm runs how many rounds next.
    public func makeScheduler(rounds: Int, seed: UInt64) -> any TrialScheduler {
        let spec = SchedulerSpec(kind: kind == .sha ? .sha : .random, eta: eta, minResource: Double(kind == .sha ? minRounds : rounds),
                                 maxResource: Double(rounds), budget: Budget(maxTrials: arms))
        return spec.makeScheduler(space: space, seed: seed ^ StreamPurpose.serverSearch, mode: .min)
    }

    /// `settings` with an arm's sampled values applied.
    public static func apply(_ config: TrialConfig, to settings: RoundSettings) throws -> RoundSettings {
        var result = settings
        for entry in config.entries {
            let field = "search.space.\(entry.name)"
            guard let value = entry.value.doubleValue else {
                throw FederatedError.invalidValue(field: field, message: "must give numbers, got \(entry.value)")
            }
            let parts = entry.name.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw FederatedError.invalidValue(field: field, message: "must be named server.<setting> or local.<hyperparameter>")
            }
            switch parts[0] {
            case "server":
                switch parts[1] {
                case "learning_rate": result.server.learningRate = value
                case "momentum": result.server.momentum = value
                case "decay": result.server.decay = value
                case "beta1": result.server.beta1 = value
                case "beta2": result.server.beta2 = value
                case "tau": result.server.tau = value
                default:
                    throw FederatedError.invalidValue(field: field, message: "unknown server setting (expected one of learning_rate, momentum, decay, beta1, beta2, tau)")
                }
            case "local":
                result.local = try result.local.setting(parts[1], to: value, field: field)
            default:
                throw FederatedError.invalidValue(field: field, message: "must be named server.<setting> or local.<hyperparameter>")
            }
        }
        try result.server.validate(field: "search.space (server)")
        return result
    }

    // MARK: Reading the config

    static func parse(_ section: ConfigSection, rounds: Int, base: RoundSettings) -> SearchSpec? {
        let issues = section.issues
        let before = issues.count
        section.finish(also: ["type", "arms", "eta", "min_rounds", "space", "arm_score"])
        let kind = section.choice("type", Kind.random)
        let armScore = section.choice("arm_score", ArmScore.evaluation)
        let arms = section.int("arms")
        if arms == nil { issues.add(section.at("arms"), "is missing (how many configurations to try)") }
        if let arms, arms < 1 { issues.add(section.at("arms"), "must be at least 1, got \(arms)") }
        let eta = section.int("eta", default: 3)
        if eta < 2 { issues.add(section.at("eta"), "must be at least 2, got \(eta)") }
        let minRounds = section.int("min_rounds", default: rounds)
        if kind == .sha {
            if minRounds < 1 || minRounds > rounds {
                issues.add(section.at("min_rounds"), "must be between 1 and rounds (\(rounds)), got \(minRounds)")
            } else if minRounds * eta > rounds {
                issues.add(section.at("min_rounds"), "times eta (\(minRounds) x \(eta)) exceeds rounds (\(rounds)): successive halving needs at least two rungs")
            }
        }
        var space: SearchSpace?
        if let raw = section["space"] {
            do {
                space = try SearchSpace(json: raw, path: section.at("space"))
                // Check every name by applying one sample.
                section.check { _ = try apply(space!.sample(trial: 0, seed: 0), to: base) }
            } catch let error as ConfigError { issues.add(error) } catch { issues.add(section.at("space"), "\(error)") }
        } else {
            issues.add(section.at("space"), "is missing (the server or local hyperparameters to search)")
        }
        guard issues.count == before, let arms, let space else { return nil }
        return SearchSpec(kind: kind, armScore: armScore, arms: arms, eta: eta, minRounds: minRounds, space: space)
    }
}

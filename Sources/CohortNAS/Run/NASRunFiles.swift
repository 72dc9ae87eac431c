import CohortFiles

/// The files of a NAS run directory and the keys of their JSON, in one place: the
/// search writes with these names and `cohort report` reads the run back through the
/// typed records below. Reading is tolerant: a field a file lacks reads as `nil`.
public enum NASRunFiles {
    public static let supernet = "supernet.safetensors"
    public static let supernetLog = "supernet.jsonl"
    public static let architectureWeightsLog = "architecture-weights.jsonl"
    public static let sampledArchitecturesLog = "sampled-architectures.jsonl"
    public static let scores = "scores.jsonl"
    public static let candidates = "candidates.json"
    public static let chosen = "chosen.json"
    public static let retrainDirectory = "retrain"
    public static let retrained = "retrained.safetensors"
    public static let retrainedReport = "retrained.json"
    public static let summary = "summary.json"

    /// The JSON keys of those files.
    public enum Key {
        public static let architecture = "architecture", round = "round", step = "step", epoch = "epoch", trial = "trial"
        public static let minibatchAccuracy = "minibatch_accuracy", minibatchLoss = "minibatch_loss"
        public static let validationAccuracy = "validation_accuracy", validationLoss = "validation_loss", testAccuracy = "test_accuracy"
        public static let loss = "loss", accuracy = "accuracy", steps = "steps", seconds = "seconds", stepsPerSecond = "steps_per_second"
        public static let learningRate = "learning_rate", derived = "derived", weights = "weights", logits = "logits"
        public static let trainSeconds = "train_seconds", jobSeconds = "job_seconds", weightsDigest = "weights_digest"
        public static let failed = "failed", checkpoint = "checkpoint"
        public static let strategy = "strategy", seed = "seed", ranks = "ranks", supernetParameters = "supernet_parameters"
        public static let supernetSteps = "supernet_steps", supernetSeconds = "supernet_seconds"
        public static let supernetStepsPerSecond = "supernet_steps_per_second", scoringSeconds = "scoring_seconds"
        public static let replicaChecks = "replica_checks", supernetDigest = "supernet_digest"
        public static let architectureWeightsDigest = "architecture_weights_digest", chosen = "chosen"
        public static let chosenValidationAccuracy = "chosen_validation_accuracy", chosenTestAccuracy = "chosen_test_accuracy"
        public static let retrainSeconds = "retrain_seconds", oneArchitectureSeconds = "one_architecture_seconds"
        public static let searchRankSeconds = "search_rank_seconds", searchCostInTrainings = "search_cost_in_trainings"
        public static let totalSeconds = "total_seconds", retrained = "retrained"
    }

    /// A line of `supernet.jsonl`.
    public struct EpochLine: Sendable {
        public var epoch: Double?, loss: Double?, accuracy: Double?
        public init(json: JSONValue) {
            epoch = json[Key.epoch]?.doubleValue; loss = json[Key.loss]?.doubleValue; accuracy = json[Key.accuracy]?.doubleValue
        }
    }

    /// A line of `architecture-weights.jsonl`: one row per edge, one column per operation.
    public struct WeightsLine: Sendable {
        public var step: Double?
        public var weights: [[Double]]
        public var derived: String?
        public init(json: JSONValue) {
            step = json[Key.step]?.doubleValue
            weights = (json[Key.weights]?.arrayValue ?? []).map { ($0.arrayValue ?? []).map { $0.doubleValue ?? .nan } }
            derived = json[Key.derived]?.stringValue
        }
    }

    /// A line of `scores.jsonl` or an entry of `candidates.json`.
    public struct Score: Sendable {
        public var architecture: String?, minibatchAccuracy: Double?, validationAccuracy: Double?
        public init(json: JSONValue) {
            architecture = json[Key.architecture]?.stringValue
            minibatchAccuracy = json[Key.minibatchAccuracy]?.doubleValue
            validationAccuracy = json[Key.validationAccuracy]?.doubleValue
        }
    }

    /// `summary.json`.
    public struct Summary: Sendable {
        public struct Retrained: Sendable {
            public var architecture: String?, validationAccuracy: Double?, testAccuracy: Double?
        }
        public var strategy: String?, seed: Int?, ranks: Int?
        public var supernetParameters: Int?, supernetSteps: Int?, supernetSeconds: Double?
        public var chosen: String?, chosenValidationAccuracy: Double?, chosenTestAccuracy: Double?
        public var searchCostInTrainings: Double?, totalSeconds: Double?
        public var retrained: [Retrained]

        public init(json s: JSONValue) {
            strategy = s[Key.strategy]?.stringValue; seed = s[Key.seed]?.intValue; ranks = s[Key.ranks]?.intValue
            supernetParameters = s[Key.supernetParameters]?.intValue; supernetSteps = s[Key.supernetSteps]?.intValue
            supernetSeconds = s[Key.supernetSeconds]?.doubleValue; chosen = s[Key.chosen]?.stringValue
            chosenValidationAccuracy = s[Key.chosenValidationAccuracy]?.doubleValue
            chosenTestAccuracy = s[Key.chosenTestAccuracy]?.doubleValue
            searchCostInTrainings = s[Key.searchCostInTrainings]?.doubleValue; totalSeconds = s[Key.totalSeconds]?.doubleValue
            retrained = (s[Key.retrained]?.arrayValue ?? []).map {
                Retrained(architecture: $0[Key.architecture]?.stringValue, validationAccuracy: $0[Key.validationAccuracy]?.doubleValue,
                          testAccuracy: $0[Key.testAccuracy]?.doubleValue)
            }
        }
    }
}

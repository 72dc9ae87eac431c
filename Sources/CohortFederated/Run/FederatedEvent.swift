import CohortFiles

/// One line of a federated run's `events.jsonl`, read back into typed values: what the
/// runner replays on `--resume`, what `--compare` compares and what `cohort report`
/// draws. The key names live here once; ``RunEvent`` writes with them.
///
/// Reading is tolerant: a field a journal lacks (an older run, an event cut short)
/// reads as `nil`, so every journal still renders.
public enum FederatedEvent {
    case start(Start)
    case arm(Arm)
    case round(Round)
    case result(Result)
    case end(Result)
    /// An event this build does not know; kept as it is.
    case other(JSONValue)

    /// The journal's key names.
    public enum Key {
        public static let event = "event", time = "time", arm = "arm", round = "round", rounds = "rounds", rung = "rung"
        public static let name = "name", seed = "seed", data = "data", clients = "clients", heldOutClients = "held_out_clients"
        public static let trainSamples = "train_samples", model = "model", parameters = "parameters", ranks = "ranks"
        public static let config = "config", server = "server", local = "local", fedexSpace = "fedex_space", choices = "choices"
        public static let sampled = "sampled", stragglers = "stragglers", diverged = "diverged", trainLoss = "train_loss"
        public static let testAccuracy = "test_accuracy", testLoss = "test_loss", validationAccuracy = "validation_accuracy"
        public static let heldOutAccuracy = "heldout_accuracy", modelDigest = "model_digest", fedex = "fedex", metric = "metric"
        public static let tunedTestAccuracy = "tuned_test_accuracy", tunedValidationAccuracy = "tuned_validation_accuracy"
        public static let tunedHeldOutAccuracy = "tuned_heldout_accuracy"
        public static let entropy = "entropy", baseline = "baseline", meanValidationLoss = "mean_validation_loss"
        public static let mostLikely = "most_likely", probability = "probability", frozen = "frozen"
    }

    /// The names of the events (`"event"`'s values).
    public enum Kind: String, Sendable {
        case start, arm, round, result, end
    }

    /// `start`: the data set, the clients, the model, the ranks.
    public struct Start: Sendable {
        public var name: String?
        public var data: JSONValue?
        public var clients: Int?
        public var heldOutClients: Int?
        public var trainSamples: Int?
        public var model: String?
        public var parameters: Int?
        public var ranks: Int?
    }

    /// A name and a value, in the order written (server settings, local hyperparameters).
    public typealias Settings = [(key: String, value: JSONValue)]

    /// `arm`: an arm's first start.
    public struct Arm: Sendable {
        public var arm: Int
        public var server: Settings
        public var local: Settings
        /// FedEx's choices per hyperparameter: each choice a setting of one or more values.
        public var fedexSpace: [(name: String, choices: [Settings])]
    }

    /// FedEx's distribution after a round.
    public struct FedExState: Sendable {
        public var entropy: Double?
        public var probability: Double?
        public var mostLikely: Settings
    }

    /// `round`: one round of one arm.
    public struct Round: Sendable {
        public var arm: Int
        public var round: Int
        public var trainLoss: Double?
        public var testAccuracy: Double?
        public var testLoss: Double?
        public var validationAccuracy: Double?
        public var modelDigest: String?
        public var fedex: FedExState?
        public var time: Double?
    }

    /// `result` (an arm scored at a rung) and `end` (the best arm; every field optional
    /// when no arm finished).
    public struct Result: Sendable {
        public var arm: Int?
        public var rung: Int?
        public var rounds: Int?
        public var metric: Double?
        public var testAccuracy: Double?
        public var validationAccuracy: Double?
        public var heldOutAccuracy: Double?
        public var tunedTestAccuracy: Double?
        public var tunedValidationAccuracy: Double?
        public var tunedHeldOutAccuracy: Double?
        public var local: Settings
    }

    public init(json e: JSONValue) {
        func number(_ key: String) -> Double? { e[key].flatMap { $0.isNull ? nil : $0.doubleValue } }
        func settings(_ v: JSONValue?) -> Settings { v?.objectMembers ?? [] }
        switch e[Key.event]?.stringValue.flatMap(Kind.init(rawValue:)) {
        case .start:
            self = .start(Start(name: e[Key.name]?.stringValue, data: e[Key.data], clients: e[Key.clients]?.intValue,
                                heldOutClients: e[Key.heldOutClients]?.intValue, trainSamples: e[Key.trainSamples]?.intValue,
                                model: e[Key.model]?.stringValue, parameters: e[Key.parameters]?.intValue, ranks: e[Key.ranks]?.intValue))
        case .arm:
            guard let arm = e[Key.arm]?.intValue else { self = .other(e); return }
            let space = (e[Key.fedexSpace]?.arrayValue ?? []).map { c in
                (name: c[Key.name]?.stringValue ?? "?", choices: (c[Key.choices]?.arrayValue ?? []).map { settings($0) })
            }
            self = .arm(Arm(arm: arm, server: settings(e[Key.server]), local: settings(e[Key.local]), fedexSpace: space))
        case .round:
            guard let arm = e[Key.arm]?.intValue, let round = e[Key.round]?.intValue else { self = .other(e); return }
            var fedex: FedExState?
            if let f = e[Key.fedex], !f.isNull {
                fedex = FedExState(entropy: f[Key.entropy]?.doubleValue, probability: f[Key.probability]?.doubleValue,
                                   mostLikely: settings(f[Key.mostLikely]))
            }
            self = .round(Round(arm: arm, round: round, trainLoss: number(Key.trainLoss), testAccuracy: number(Key.testAccuracy),
                                testLoss: number(Key.testLoss), validationAccuracy: number(Key.validationAccuracy),
                                modelDigest: e[Key.modelDigest]?.stringValue, fedex: fedex, time: number(Key.time)))
        case .result, .end:
            let r = Result(arm: e[Key.arm]?.intValue, rung: e[Key.rung]?.intValue, rounds: e[Key.rounds]?.intValue,
                           metric: number(Key.metric), testAccuracy: number(Key.testAccuracy),
                           validationAccuracy: number(Key.validationAccuracy), heldOutAccuracy: number(Key.heldOutAccuracy),
                           tunedTestAccuracy: number(Key.tunedTestAccuracy), tunedValidationAccuracy: number(Key.tunedValidationAccuracy),
                           tunedHeldOutAccuracy: number(Key.tunedHeldOutAccuracy), local: settings(e[Key.local]))
            self = e[Key.event]?.stringValue == Kind.end.rawValue ? .end(r) : .result(r)
        case nil:
            self = .other(e)
        }
    }
}

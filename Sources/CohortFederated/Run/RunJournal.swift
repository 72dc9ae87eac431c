import CohortFiles
import CohortTune
import Foundation

/// The run's `events.jsonl`: one JSON object per line, `"event"` first, each line on
/// disk before the run moves on, so a run killed at any moment leaves a journal of
/// everything it finished.
///
/// Events:
/// - `start`: data set, clients, parameters, ranks.
/// - `arm`: an arm's first start, with its sampled server/local values and FedEx space.
/// - `round`: one per round: `arm`, `round` (rounds completed, from 1), `sampled`,
///   `stragglers`, `diverged`, `train_loss`, `test_accuracy` / `test_loss` /
///   `validation_accuracy` / `heldout_accuracy` (null between evaluations),
///   `model_digest` (FNV-1a of the global model's bits: equal digests, identical
///   models), FedEx's `fedex` state, and `time` (seconds since the run began).
/// - `result`: an arm scored at the end of a rung (`rung`, `rounds`, `metric`, the
///   global model's accuracies, with `evaluation.fine_tune` the fine-tuned ones as
///   `tuned_*`, and `local`, the local configuration it settled on).
/// - `end`: the best arm.
public final class RunJournal {
    public var url: URL { writer.url }
    private let writer: JournalWriter

    /// Opens `url` for appending, creating it if needed; `sync` fsyncs every event.
    public init(url: URL, sync: Bool) throws {
        do { writer = try JournalWriter(url: url, durability: sync ? .synced : .written) } catch {
            throw FederatedError.runDirectory(path: url.deletingLastPathComponent().path, message: "\(error)")
        }
    }

    public func append(_ event: JSONValue) throws {
        do { try writer.append(event) } catch {
            throw FederatedError.runDirectory(path: url.deletingLastPathComponent().path, message: "\(error)")
        }
    }

    // MARK: Reading

    /// The events of a journal. A last line without its newline is a write cut short by
    /// a kill and is dropped; a bad line anywhere else is an error.
    public static func read(url: URL) throws -> [JSONValue] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FederatedError.runDirectory(path: url.deletingLastPathComponent().path, message: "cannot read \(url.lastPathComponent)")
        }
        do { return try JSONLines.parse(data).values } catch let bad as JSONLines.BadLine {
            throw FederatedError.runDirectory(path: url.deletingLastPathComponent().path,
                                              message: "\(url.lastPathComponent) \(bad)")
        }
    }

    /// Replaces the journal with `events` atomically.
    public static func rewrite(url: URL, events: [JSONValue]) throws {
        let text = events.map { $0.description + "\n" }.joined()
        do { try AtomicFile.write(text, to: url) } catch {
            throw FederatedError.runDirectory(path: url.deletingLastPathComponent().path, message: "\(error)")
        }
    }
}

// MARK: Building events

/// The journal's event lines.
enum RunEvent {
    static func number(_ x: Double) -> JSONValue { x.isFinite ? .double(x) : .null }

    static func start(config: FedConfig, data: FederatedDataset, parameters: Int, ranks: Int, model: String) -> JSONValue {
        .object([
            ("event", .string("start")), ("name", .string(config.name)), ("seed", .int(Int(config.seed))),
            ("data", .string(data.name)), ("clients", .int(data.clients.count)),
            ("held_out_clients", .int(data.heldOutClients.count)), ("train_samples", .int(data.trainSampleCount)),
            ("model", .string(model)), ("parameters", .int(parameters)), ("ranks", .int(ranks)), ("time", .double(0)),
        ])
    }

    static func arm(_ arm: Int, searchConfig: TrialConfig, settings: RoundSettings, time: Double) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("event", .string("arm")), ("arm", .int(arm)), ("config", searchConfig.json),
            ("server", .object([("type", .string(settings.server.kind.rawValue)), ("learning_rate", .double(settings.server.learningRate)),
                                ("momentum", .double(settings.server.momentum)), ("decay", .double(settings.server.decay))])),
            ("local", hyperparameters(settings.local)),
        ]
        if let space = settings.fedex?.space {
            members.append(("fedex_space", .array(space.categoricals.map { c in
                .object([("name", .string(c.name)), ("choices", .array(c.choices.map(choice)))])
            })))
        }
        members.append(("time", .double(time)))
        return .object(members)
    }

    static func round(arm: Int, record: RoundRecord, evaluation: EvaluationRecord?, fedex: FedExDistribution?,
                      space: FedExSpace?, digest: UInt64, time: Double) -> JSONValue {
        let p = record.participants
        var members: [(key: String, value: JSONValue)] = [
            ("event", .string("round")), ("arm", .int(arm)), ("round", .int(record.round + 1)),
            ("sampled", .array(p.selected.map(JSONValue.int))), ("stragglers", .array(p.stragglers.map(JSONValue.int))),
            ("diverged", .array(record.diverged.map(JSONValue.int))), ("train_loss", number(record.trainLoss)),
        ]
        members += evaluationFields(evaluation)
        members.append(("model_digest", .string(String(format: "%016llx", digest))))
        if let fedex, let space {
            var f: [(key: String, value: JSONValue)] = [("entropy", .double(fedex.entropy))]
            if let step = record.fedexStep {
                f += [("baseline", number(step.baseline)), ("mean_validation_loss", number(step.meanLoss))]
            }
            f += [("most_likely", mostLikely(fedex, space)), ("probability", .double(fedex.mostLikelyProbability)),
                  ("frozen", .bool(fedex.isFrozen))]
            members.append(("fedex", .object(f)))
        }
        members.append(("time", .double(time)))
        return .object(members)
    }

    static func result(arm: Int, rung: Int, rounds: Int, metric: Double, evaluation: EvaluationRecord,
                       tuned: EvaluationRecord?, configuration: LocalHyperparameters, time: Double) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("event", .string("result")), ("arm", .int(arm)), ("rung", .int(rung)), ("rounds", .int(rounds)),
            ("metric", number(metric)),
        ] + evaluationFields(evaluation)
        if let tuned {
            members += [("tuned_test_accuracy", .double(tuned.test.accuracy)),
                        ("tuned_validation_accuracy", tuned.validation.count > 0 ? .double(tuned.validation.accuracy) : .null),
                        ("tuned_heldout_accuracy", tuned.heldOut.count > 0 ? .double(tuned.heldOut.accuracy) : .null)]
        }
        members += [("local", hyperparameters(configuration)), ("time", .double(time))]
        return .object(members)
    }

    static func evaluationFields(_ evaluation: EvaluationRecord?) -> [(key: String, value: JSONValue)] {
        guard let e = evaluation else {
            return [("test_accuracy", .null), ("test_loss", .null), ("validation_accuracy", .null), ("heldout_accuracy", .null)]
        }
        return [("test_accuracy", .double(e.test.accuracy)), ("test_loss", number(e.test.meanLoss)),
                ("validation_accuracy", e.validation.count > 0 ? .double(e.validation.accuracy) : .null),
                ("heldout_accuracy", e.heldOut.count > 0 ? .double(e.heldOut.accuracy) : .null)]
    }

    static func hyperparameters(_ h: LocalHyperparameters) -> JSONValue {
        .object(LocalHyperparameters.names.map { ($0, JSONValue.number(h.value($0)!)) })
    }

    static func choice(_ values: [String: Double]) -> JSONValue {
        .object(values.keys.sorted().map { ($0, JSONValue.number(values[$0]!)) })
    }

    static func mostLikely(_ fedex: FedExDistribution, _ space: FedExSpace) -> JSONValue {
        var merged: [String: Double] = [:]
        for (categorical, index) in zip(space.categoricals, fedex.mostLikely) {
            merged.merge(categorical.choices[index]) { _, new in new }
        }
        return choice(merged)
    }
}

import CohortFiles
import CohortTune
import Foundation

/// The run's `events.jsonl`, written through the one ``JournalWriter``: one JSON
/// object per line (the events ``RunEvent`` builds and ``FederatedEvent`` reads), each
/// line on disk before the run moves on, so a run killed at any moment leaves a
/// journal of everything it finished.
public enum RunJournal {
    /// The journal at `url` opened for appending (created if needed); `sync` fsyncs
    /// every event.
    public static func open(url: URL, sync: Bool) throws -> JournalWriter {
        do { return try JournalWriter(url: url, durability: sync ? .synced : .written) } catch {
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
    typealias K = FederatedEvent.Key

    static func number(_ x: Double) -> JSONValue { x.isFinite ? .double(x) : .null }

    static func start(config: FedConfig, data: FederatedDataset, parameters: Int, ranks: Int, model: String) -> JSONValue {
        .object([
            (K.event, .string(FederatedEvent.Kind.start.rawValue)), (K.name, .string(config.name)), (K.seed, .int(Int(config.seed))),
            (K.data, .string(data.name)), (K.clients, .int(data.clients.count)),
            (K.heldOutClients, .int(data.heldOutClients.count)), (K.trainSamples, .int(data.trainSampleCount)),
            (K.model, .string(model)), (K.parameters, .int(parameters)), (K.ranks, .int(ranks)), (K.time, .double(0)),
        ])
    }

    static func arm(_ arm: Int, searchConfig: TrialConfig, settings: RoundSettings, time: Double) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            (K.event, .string(FederatedEvent.Kind.arm.rawValue)), (K.arm, .int(arm)), (K.config, searchConfig.json),
            (K.server, .object([("type", .string(settings.server.kind.rawValue)), ("learning_rate", .double(settings.server.learningRate)),
                                ("momentum", .double(settings.server.momentum)), ("decay", .double(settings.server.decay))])),
            (K.local, hyperparameters(settings.local)),
        ]
        if let space = settings.fedex?.space {
            members.append((K.fedexSpace, .array(space.categoricals.map { c in
                .object([(K.name, .string(c.name)), (K.choices, .array(c.choices.map(choice)))])
            })))
        }
        members.append((K.time, .double(time)))
        return .object(members)
    }

    static func round(arm: Int, record: RoundRecord, evaluation: EvaluationRecord?, fedex: FedExDistribution?,
                      space: FedExSpace?, digest: UInt64, time: Double) -> JSONValue {
        let p = record.participants
        var members: [(key: String, value: JSONValue)] = [
            (K.event, .string(FederatedEvent.Kind.round.rawValue)), (K.arm, .int(arm)), (K.round, .int(record.round + 1)),
            (K.sampled, .array(p.selected.map(JSONValue.int))), (K.stragglers, .array(p.stragglers.map(JSONValue.int))),
            (K.diverged, .array(record.diverged.map(JSONValue.int))), (K.trainLoss, number(record.trainLoss)),
        ]
        members += evaluationFields(evaluation)
        members.append((K.modelDigest, .string(String(format: "%016llx", digest))))
        if let fedex, let space {
            var f: [(key: String, value: JSONValue)] = [(K.entropy, .double(fedex.entropy))]
            if let step = record.fedexStep {
                f += [(K.baseline, number(step.baseline)), (K.meanValidationLoss, number(step.meanLoss))]
            }
            f += [(K.mostLikely, mostLikely(fedex, space)), (K.probability, .double(fedex.mostLikelyProbability)),
                  (K.frozen, .bool(fedex.isFrozen))]
            members.append((K.fedex, .object(f)))
        }
        members.append((K.time, .double(time)))
        return .object(members)
    }

    static func result(arm: Int, rung: Int, rounds: Int, metric: Double, evaluation: EvaluationRecord,
                       tuned: EvaluationRecord?, configuration: LocalHyperparameters, time: Double) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            (K.event, .string(FederatedEvent.Kind.result.rawValue)), (K.arm, .int(arm)), (K.rung, .int(rung)), (K.rounds, .int(rounds)),
            (K.metric, number(metric)),
        ] + evaluationFields(evaluation)
        if let tuned {
            members += [(K.tunedTestAccuracy, .double(tuned.test.accuracy)),
                        (K.tunedValidationAccuracy, tuned.validation.count > 0 ? .double(tuned.validation.accuracy) : .null),
                        (K.tunedHeldOutAccuracy, tuned.heldOut.count > 0 ? .double(tuned.heldOut.accuracy) : .null)]
        }
        members += [(K.local, hyperparameters(configuration)), (K.time, .double(time))]
        return .object(members)
    }

    static func evaluationFields(_ evaluation: EvaluationRecord?) -> [(key: String, value: JSONValue)] {
        guard let e = evaluation else {
            return [(K.testAccuracy, .null), (K.testLoss, .null), (K.validationAccuracy, .null), (K.heldOutAccuracy, .null)]
        }
        return [(K.testAccuracy, .double(e.test.accuracy)), (K.testLoss, number(e.test.meanLoss)),
                (K.validationAccuracy, e.validation.count > 0 ? .double(e.validation.accuracy) : .null),
                (K.heldOutAccuracy, e.heldOut.count > 0 ? .double(e.heldOut.accuracy) : .null)]
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

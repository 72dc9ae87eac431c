import CohortFiles
import CohortTune
import Foundation

/// Compares two run directories arm by arm: the global model digests the journals
/// recorded after every round, and the final checkpoints value by value. This is how
/// "same seed, same ranks: bit-identical after every round", "3 ranks against 5" and
/// "killed and resumed against uninterrupted" are checked.
public struct RunComparison: Sendable {
    public struct Arm: Sendable {
        public var arm: Int
        /// Rounds whose journal lines both runs hold.
        public var commonRounds: Int
        /// Of those, rounds whose model digests agree.
        public var identicalRounds: Int
        /// The largest |a - b| between the two latest checkpoints (nil when a run has none).
        public var maxDifference: Float?
        public var parameterCount: Int
        /// Rounds each checkpoint holds.
        public var checkpointRounds: (Int, Int)
        /// Test accuracies of each run's last evaluation.
        public var finalTestAccuracy: (Double?, Double?)
    }

    public var arms: [Arm]

    /// The largest checkpoint difference over all arms.
    public var maxDifference: Float { arms.compactMap(\.maxDifference).max() ?? 0 }

    /// Whether every round's model and every final checkpoint agree bit for bit.
    public var isIdentical: Bool {
        arms.allSatisfy { $0.identicalRounds == $0.commonRounds && $0.maxDifference == 0 && $0.checkpointRounds.0 == $0.checkpointRounds.1 }
    }

    public static func compare(_ a: String, _ b: String) throws -> RunComparison {
        let first = RunDirectory(path: a), second = RunDirectory(path: b)
        let journalA = try RunJournal.read(url: first.journalURL), journalB = try RunJournal.read(url: second.journalURL)
        let roundsA = rounds(journalA), roundsB = rounds(journalB)
        var arms: [Arm] = []
        for arm in Set(roundsA.keys).intersection(roundsB.keys).sorted() {
            let ra = roundsA[arm]!, rb = roundsB[arm]!
            let common = Set(ra.keys).intersection(rb.keys)
            let same = common.filter { ra[$0]!.digest == rb[$0]!.digest }.count
            var comparison = Arm(arm: arm, commonRounds: common.count, identicalRounds: same, maxDifference: nil,
                                 parameterCount: 0, checkpointRounds: (0, 0),
                                 finalTestAccuracy: (lastAccuracy(ra), lastAccuracy(rb)))
            let ca = try? RoundCheckpoint.read(from: first.checkpoint(arm: arm), settings: .fedAvg)
            let cb = try? RoundCheckpoint.read(from: second.checkpoint(arm: arm), settings: .fedAvg)
            if let ca, let cb {
                guard ca.state.global.count == cb.state.global.count else {
                    throw FederatedError.unsatisfiable("arm \(arm): the runs' models have \(ca.state.global.count) and \(cb.state.global.count) parameters")
                }
                comparison.parameterCount = ca.state.global.count
                comparison.checkpointRounds = (ca.state.completedRounds, cb.state.completedRounds)
                comparison.maxDifference = zip(ca.state.global, cb.state.global).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            }
            arms.append(comparison)
        }
        guard !arms.isEmpty else { throw FederatedError.unsatisfiable("\(a) and \(b) have no arm with rounds in common") }
        return RunComparison(arms: arms)
    }

    /// Per arm, per round: the digest and test accuracy the journal recorded.
    private static func rounds(_ events: [JSONValue]) -> [Int: [Int: (digest: String, accuracy: Double?)]] {
        var out: [Int: [Int: (digest: String, accuracy: Double?)]] = [:]
        for case let .round(r) in events.map(FederatedEvent.init(json:)) {
            guard let digest = r.modelDigest else { continue }
            out[r.arm, default: [:]][r.round] = (digest, r.testAccuracy)
        }
        return out
    }

    private static func lastAccuracy(_ rounds: [Int: (digest: String, accuracy: Double?)]) -> Double? {
        rounds.keys.sorted().reversed().lazy.compactMap { rounds[$0]!.accuracy }.first
    }

    /// One line per arm.
    public var report: String {
        arms.map { a in
            var line = "arm \(a.arm): model digests agree in \(a.identicalRounds) of \(a.commonRounds) rounds"
            if let d = a.maxDifference {
                line += "; checkpoints after \(a.checkpointRounds.0) and \(a.checkpointRounds.1) rounds differ by at most \(d) over \(a.parameterCount) parameters"
                if d == 0 { line += " (bit-identical)" }
            }
            if let x = a.finalTestAccuracy.0, let y = a.finalTestAccuracy.1 {
                line += String(format: "; final test accuracy %.4f vs %.4f", x, y)
            }
            return line
        }.joined(separator: "\n")
    }
}

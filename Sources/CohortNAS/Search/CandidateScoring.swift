import CohortFiles
import CohortCluster
import CohortData
import CohortTensor
import CohortTune
import Foundation

private typealias K = NASRunFiles.Key

/// An architecture's score with the supernet's shared weights.
public struct CandidateScore: Sendable, Equatable {
    public var architecture: CellArchitecture
    /// The scoring round that sampled it (RSWS), 0 otherwise.
    public var round: Int
    /// Accuracy and mean loss on the round's validation minibatches (RSWS).
    public var minibatchAccuracy: Double?
    public var minibatchLoss: Double?
    /// Accuracy and mean loss on the whole validation split.
    public var validationAccuracy: Double
    public var validationLoss: Double

    var json: JSONValue {
        var m: [(key: String, value: JSONValue)] = [(K.architecture, .string(architecture.nasBench201String)), (K.round, .int(round))]
        if let a = minibatchAccuracy, let l = minibatchLoss { m += [(K.minibatchAccuracy, .double(a)), (K.minibatchLoss, .double(l))] }
        m += [(K.validationAccuracy, .double(validationAccuracy)), (K.validationLoss, .double(validationLoss))]
        return .object(m)
    }
}

/// Scores architectures with the shared weights, spread over the ranks.
///
/// Work is cut into units (one architecture on one minibatch); unit u runs on rank
/// u mod N, each as a whole batch on one rank, and an allgather gives every rank
/// every unit's result, summed in unit order. A score is therefore the same whatever
/// rank computed it, and every rank ranks the candidates identically.
///
/// Random search with weight sharing (Li & Talwalkar, 2019) runs rounds of: sample
/// architectures uniformly, score each on a few validation minibatches (the same ones
/// for every architecture of the round), re-score the best few on the whole validation
/// split. Candidates are ranked by accuracy, then loss, then cell index, and kept in
/// canonical form (`CellArchitecture.canonical`), so no cell is scored twice.
final class CandidateScoring {
    let trainer: SupernetTrainer
    let validation: Dataset
    let communicator: Communicator
    let seed: UInt64
    let batchSize: Int

    init(trainer: SupernetTrainer, validation: Dataset, communicator: Communicator, seed: UInt64, batchSize: Int) {
        self.trainer = trainer
        self.validation = validation
        self.communicator = communicator
        self.seed = seed
        self.batchSize = batchSize
    }

    // MARK: Distributed scoring

    /// Correct counts and summed losses of every unit, in unit order, on every rank.
    func score(_ units: [(architecture: CellArchitecture, indices: ArraySlice<Int>)]) throws -> [(correct: Double, lossSum: Double)] {
        try score(unitCount: units.count) { u in trainer.score(units[u].architecture, validation, indices: units[u].indices) }
    }

    /// The distribution of any `unitCount` units: unit u scored by `scoreUnit(u)` on rank u mod N.
    func score(unitCount: Int, _ scoreUnit: (Int) -> (correct: Int, lossSum: Double)) throws -> [(correct: Double, lossSum: Double)] {
        let rank = communicator.rank, ranks = communicator.size
        var mine: [Double] = []
        for u in stride(from: rank, to: unitCount, by: ranks) {
            let s = scoreUnit(u)
            mine += [Double(s.correct), s.lossSum]
        }
        let all = ranks > 1 ? try communicator.allgather(mine) : [mine]
        return (0..<unitCount).map { u in
            let part = all[u % ranks], at = 2 * (u / ranks)
            return (part[at], part[at + 1])
        }
    }

    /// Accuracy and mean loss of the supernet along its mixture (architecture weights
    /// fixed) on the whole validation split, chunk by chunk.
    func scoreMixture(_ weights: ArchitectureWeights) throws -> (accuracy: Double, loss: Double) {
        let chunks = validationChunks
        let results = try score(unitCount: chunks.count) { u in
            trainer.score(validation, indices: chunks[u]) { tape in SupernetSearch.mixturePath(weights, tape, trainable: false).0 }
        }
        var correct = 0.0, loss = 0.0
        for r in results { correct += r.correct; loss += r.lossSum }   // fixed order on every rank count
        let samples = Double(Swift.max(validation.count, 1))
        return (correct / samples, loss / samples)
    }

    /// Accuracy and mean loss of each architecture on the samples `batches` cover.
    func score(_ architectures: [CellArchitecture], on batches: [ArraySlice<Int>]) throws -> [(accuracy: Double, loss: Double)] {
        let units = architectures.flatMap { a in batches.map { (architecture: a, indices: $0) } }
        let results = try score(units)
        let samples = Double(batches.reduce(0) { $0 + $1.count })
        return architectures.indices.map { i in
            var correct = 0.0, loss = 0.0
            for b in batches.indices {   // fixed order: the same sums on every rank count
                correct += results[i * batches.count + b].correct
                loss += results[i * batches.count + b].lossSum
            }
            return (correct / samples, loss / samples)
        }
    }

    /// The whole validation split in consecutive chunks of `batchSize`.
    var validationChunks: [ArraySlice<Int>] {
        stride(from: 0, to: validation.count, by: batchSize).map { start in
            Array(start..<Swift.min(start + batchSize, validation.count))[...]
        }
    }

    /// Scores `architectures` on the whole validation split.
    func scoreOnValidation(_ architectures: [CellArchitecture]) throws -> [(accuracy: Double, loss: Double)] {
        try score(architectures, on: validationChunks)
    }

    // MARK: Random search with weight sharing

    /// Runs the scoring rounds; returns every re-scored candidate, best first. Rank 0
    /// logs each sampled architecture's minibatch score to `scores.jsonl`.
    ///
    /// With `scoring: running_batches` (the authors' code) a round draws its cells i.i.d.
    /// (a cell may come twice) and scores each on the next `score_batches` batches of a
    /// validation iterator that runs on from cell to cell and round to round (epoch after
    /// epoch), so every cell sees other batches.
    func randomSearch(_ settings: NASConfig.RSWS, recorder: RunRecorder?) throws -> [CandidateScore] {
        var rescored: [CandidateScore] = []
        var rescoredCells = Set<CellArchitecture>()
        var running = try RunningBatches(count: validation.count, batchSize: Swift.min(batchSize, validation.count), seed: seed)
        for round in 0..<settings.rounds {
            let cells: [CellArchitecture]
            let scores: [(accuracy: Double, loss: Double)]
            switch settings.scoring {
            case .sharedBatches:
                cells = Self.sampleDistinct(settings.architectures, seed: seed, round: round)
                let order = try MinibatchSampler(sampleCount: validation.count, batchSize: Swift.min(batchSize, validation.count), seed: seed,
                                                 stream: [StreamPurpose.scoringBatches, UInt64(round)], dropLast: true)
                let batches = (0..<Swift.min(settings.scoreBatches, order.batchCount)).map { order.batchIndices($0) }
                scores = try score(cells, on: batches)
            case .runningBatches:
                cells = Self.sampleIndependent(settings.architectures, seed: seed, round: round)
                let perCell = cells.map { _ in (0..<settings.scoreBatches).map { _ in running.next() } }
                let units = zip(cells, perCell).flatMap { cell, batches in batches.map { (architecture: cell, indices: $0) } }
                let results = try score(units)
                scores = cells.indices.map { i in
                    var correct = 0.0, loss = 0.0, samples = 0.0
                    for b in 0..<settings.scoreBatches {   // fixed order: the same sums on every rank count
                        correct += results[i * settings.scoreBatches + b].correct
                        loss += results[i * settings.scoreBatches + b].lossSum
                        samples += Double(perCell[i][b].count)
                    }
                    return (correct / samples, loss / samples)
                }
            }
            if let recorder {
                for (cell, s) in zip(cells, scores) {
                    try recorder.append(.object([(K.round, .int(round)), (K.architecture, .string(cell.nasBench201String)),
                                                 (K.minibatchAccuracy, .double(s.accuracy)), (K.minibatchLoss, .double(s.loss))]),
                                        to: NASRunFiles.scores)
                }
            }
            let ranked = cells.indices.sorted { Self.better((scores[$0].accuracy, scores[$0].loss, cells[$0].index),
                                                            (scores[$1].accuracy, scores[$1].loss, cells[$1].index)) }
            var taken = rescoredCells   // a cell drawn twice (running batches) is re-scored once, at its best rank
            let top = ranked.filter { taken.insert(cells[$0]).inserted }.prefix(settings.rescoreTop)
            let full = try scoreOnValidation(top.map { cells[$0] })
            for (i, f) in zip(top, full) {
                rescoredCells.insert(cells[i])
                rescored.append(CandidateScore(architecture: cells[i], round: round, minibatchAccuracy: scores[i].accuracy,
                                               minibatchLoss: scores[i].loss, validationAccuracy: f.accuracy, validationLoss: f.loss))
            }
        }
        return Self.ranked(rescored)
    }

    /// `count` connected cells drawn i.i.d. uniformly from the stream of `round`, in
    /// canonical form; repeats are kept (their scores differ: other batches).
    static func sampleIndependent(_ count: Int, seed: UInt64, round: Int) -> [CellArchitecture] {
        var rng = RandomStream(seed: seed, stream: [StreamPurpose.candidateSampling, UInt64(round)])
        return (0..<count).map { _ in CellArchitecture.randomConnected(&rng).canonical }
    }

    /// A validation iterator that runs on across cells and rounds: batch after batch of
    /// one shuffled epoch, then the next epoch's order.
    struct RunningBatches {
        private var order: MinibatchSampler
        private var epoch = 0, batch = 0

        init(count: Int, batchSize: Int, seed: UInt64) throws {
            order = try MinibatchSampler(sampleCount: count, batchSize: batchSize, seed: seed,
                                         stream: [StreamPurpose.scoringBatches], dropLast: true)
        }

        mutating func next() -> ArraySlice<Int> {
            if batch == order.batchCount {
                epoch += 1
                batch = 0
                order.startEpoch(epoch)
            }
            defer { batch += 1 }
            return order.batchIndices(batch)
        }
    }

    /// `count` different connected cells drawn uniformly from the stream of `round`,
    /// in canonical form (a draw equivalent to an earlier one is skipped).
    static func sampleDistinct(_ count: Int, seed: UInt64, round: Int) -> [CellArchitecture] {
        var rng = RandomStream(seed: seed, stream: [StreamPurpose.candidateSampling, UInt64(round)])
        var seen = Set<CellArchitecture>(), cells: [CellArchitecture] = []
        let target = Swift.min(count, CellArchitecture.distinctConnectedCount)
        while cells.count < target {
            let c = CellArchitecture.randomConnected(&rng).canonical
            if seen.insert(c).inserted { cells.append(c) }
        }
        return cells
    }

    /// Best first: higher accuracy, then lower loss, then the lower cell index.
    static func ranked(_ candidates: [CandidateScore]) -> [CandidateScore] {
        candidates.sorted {
            better(($0.validationAccuracy, $0.validationLoss, $0.architecture.index), ($1.validationAccuracy, $1.validationLoss, $1.architecture.index))
        }
    }

    static func better(_ a: (Double, Double, Int), _ b: (Double, Double, Int)) -> Bool {
        if a.0 != b.0 { return a.0 > b.0 }
        if a.1 != b.1 { return a.1 < b.1 }
        return a.2 < b.2
    }
}

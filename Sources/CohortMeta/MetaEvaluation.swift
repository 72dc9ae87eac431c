import CohortCluster
import CohortData
import CohortTensor

/// Meta-test: accuracy on tasks of held-out classes, with a 95% confidence interval.
///
/// Test episode `e` for a shot count comes from a stream of (data seed, shots, e), not
/// of the training seed: every learner, budget and selection meets the same tasks, and
/// `uniform` and `coverage` choose from the same candidates and answer the same queries
/// (a paired comparison). Ranks score contiguous shares of the episodes; one allreduce
/// of the per-episode accuracies (zeros elsewhere) collects them in episode order.
public enum MetaEvaluation {
    public struct Score: Sendable, Equatable {
        public var name: String
        public var ways: Int, shots: Int
        public var selection: String
        public var episodes: Int
        public var mean: Double
        /// Half-width of the normal 95% interval of the mean: 1.96 sd / sqrt(n).
        public var interval: Double
    }

    /// Mean and 95% half-width of `values`.
    public static func meanInterval(_ values: [Double]) -> (mean: Double, interval: Double) {
        let n = Double(values.count)
        guard n > 0 else { return (.nan, .nan) }
        let mean = values.reduce(0, +) / n
        guard n > 1 else { return (mean, 0) }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        return (mean, 1.96 * (variance / n).squareRoot())
    }

    static func testEpisode(_ e: Int, shots: Int, config: MetaConfig, pool: ClassPool) -> Episode {
        var stream = RandomStream(seed: config.dataSeed, stream: [0x6D65_7461_7465_7374, UInt64(shots), UInt64(e)])
        return Episode.draw(from: pool, ways: config.testWays, shots: shots, candidates: config.candidateCount(shots: shots, selection: .coverage),
                            queries: config.testQueries, stream: &stream)
    }

    /// `config.testEpisodes` episodes of `shots` shots with `selection`.
    public static func episodes(_ learner: MetaLearner, pool: ClassPool, config: MetaConfig, shots: Int, selection: SelectionKind,
                                communicator: Communicator) throws -> Score {
        let count = config.testEpisodes
        var accuracies = [Double](repeating: 0, count: count)
        let tape = Tape()
        for e in DataParallelShard.bounds(count: count, rank: communicator.rank, rankCount: communicator.size) {
            let episode = SupportSelection.select(selection, episode: testEpisode(e, shots: shots, config: config, pool: pool),
                                                  shots: shots, pool: pool, learner: learner, tape: tape)
            let task = TaskImages(episode, pool: pool)
            accuracies[e] = InnerLoop.accuracy(learner.predict(task), task.queryLabels)
        }
        if communicator.size > 1 { try communicator.allreduce(&accuracies, op: .sum) }
        let (mean, interval) = meanInterval(accuracies)
        return Score(name: "\(config.testWays)-way \(shots)-shot", ways: config.testWays, shots: shots, selection: selection.rawValue,
                     episodes: count, mean: mean, interval: interval)
    }

    /// Lake's one-shot runs: accuracy per run, averaged (interval over runs). Learners
    /// with a head meet the runs' width through `wide`, a copy with a zeroed head as
    /// wide as the run.
    public static func oneShotRuns(_ runs: [Omniglot.OneShotRun], learner: MetaLearner, wide: (Int) throws -> MetaLearner,
                                   sampleShape: [Int], communicator: Communicator) throws -> Score {
        var accuracies = [Double](repeating: 0, count: runs.count)
        var widened: [Int: MetaLearner] = [:]
        for r in DataParallelShard.bounds(count: runs.count, rank: communicator.rank, rankCount: communicator.size) {
            let run = runs[r]
            let task = TaskImages(ways: run.classCount, sampleShape: sampleShape, support: run.training,
                                  supportLabels: (0..<run.classCount).map { Int32($0) }, query: run.test,
                                  queryLabels: run.testLabels.map { Int32($0) })
            let solver: MetaLearner
            if learner.network.head == nil || learner.network.head!.outputs == run.classCount {
                solver = learner
            } else {
                if widened[run.classCount] == nil { widened[run.classCount] = try wide(run.classCount) }
                solver = widened[run.classCount]!
            }
            accuracies[r] = InnerLoop.accuracy(solver.predict(task), task.queryLabels)
        }
        if communicator.size > 1 { try communicator.allreduce(&accuracies, op: .sum) }
        let (mean, interval) = meanInterval(accuracies)
        let ways = runs.first?.classCount ?? 0
        return Score(name: "Lake's \(runs.count) runs, \(ways)-way 1-shot", ways: ways, shots: 1, selection: "given",
                     episodes: runs.count, mean: mean, interval: interval)
    }
}

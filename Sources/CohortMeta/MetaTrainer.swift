import CohortCluster
import CohortData
import CohortTensor

/// Meta-training, one meta-iteration at a time, SPMD over the ranks:
///
/// 1. The meta-batch's slots are split into contiguous shares, one per rank. Slot `j` of
///    meta-iteration `s` is the task with id `budget.taskID(s, j)`; the task's classes
///    and drawings come from a stream of (seed, task id) alone, so a task is the same
///    whichever rank draws it and however often it returns.
/// 2. The support is chosen (`selection.train`). Under a budget, a model-driven choice
///    is made once, on the task's first visit, and the owning rank shares it (one small
///    allreduce) so later visits label the same points: the budget is never exceeded.
/// 3. Each rank adds its tasks' meta-gradients, each weighted 1 / meta-batch, into one
///    flat accumulator; one sum-allreduce gives every rank the meta-batch's mean.
/// 4. Every rank applies the same outer update to the same weights, so replicas stay
///    bit-identical for a seed and rank count (the sum's order is fixed by MPI for a
///    given rank count).
final class MetaTrainer {
    let learner: MetaLearner
    let optimizer: Optimizer
    let pool: ClassPool
    let config: MetaConfig
    let budget: SupervisionBudget
    let communicator: Communicator
    /// Support chosen on a task's first visit (budgeted model-driven selection only).
    var chosenSupport: [Int: [[Int]]] = [:]
    private var accumulator: [Float]
    private let selectionTape = Tape()

    init(learner: MetaLearner, optimizer: Optimizer, pool: ClassPool, config: MetaConfig, communicator: Communicator) throws {
        self.learner = learner
        self.optimizer = optimizer
        self.pool = pool
        self.config = config
        budget = try config.supervisionBudget()
        self.communicator = communicator
        accumulator = [Float](repeating: 0, count: learner.model.parameterCount)
    }

    /// The task with `id`, support not yet chosen.
    static func task(_ id: Int, config: MetaConfig, pool: ClassPool) -> Episode {
        var stream = RandomStream(seed: config.seed, stream: [0x6D65_7461_7461_736B, UInt64(id)])
        return Episode.draw(from: pool, ways: config.ways, shots: config.shots,
                            candidates: config.candidateCount(shots: config.shots, selection: config.trainSelection),
                            queries: config.queries, stream: &stream)
    }

    /// One meta-iteration; returns the meta-batch's mean query loss and accuracy.
    func step(_ s: Int) throws -> (loss: Double, accuracy: Double) {
        let share = DataParallelShard.bounds(count: config.metaBatch, rank: communicator.rank, rankCount: communicator.size)
        let remembers = budget.total != nil && config.trainSelection != .uniform
        let width = config.ways * config.shots
        var fresh = [Double](repeating: 0, count: remembers ? config.metaBatch * width : 0)
        var tasks: [(slot: Int, episode: Episode)] = []
        for slot in share {
            let id = budget.taskID(step: s, slot: slot, metaBatch: config.metaBatch)
            var episode = MetaTrainer.task(id, config: config, pool: pool)
            if let known = chosenSupport[id] {
                episode.support = known
            } else {
                episode = SupportSelection.select(config.trainSelection, episode: episode, shots: config.shots, pool: pool,
                                                  learner: learner, tape: selectionTape)
                if remembers {
                    let flat = episode.support.flatMap { $0 }
                    for (k, d) in flat.enumerated() { fresh[slot * width + k] = Double(d + 1) }
                }
            }
            tasks.append((slot, episode))
        }
        if remembers {
            // Every rank learns the choices made this iteration (0: no new choice).
            if communicator.size > 1 { try communicator.allreduce(&fresh, op: .sum) }
            for slot in 0..<config.metaBatch where fresh[slot * width] > 0 {
                let id = budget.taskID(step: s, slot: slot, metaBatch: config.metaBatch)
                guard chosenSupport[id] == nil else { continue }
                let flat = (0..<width).map { Int(fresh[slot * width + $0]) - 1 }
                chosenSupport[id] = (0..<config.ways).map { Array(flat[($0 * config.shots)..<(($0 + 1) * config.shots)]) }
            }
        }

        for i in accumulator.indices { accumulator[i] = 0 }
        var totals = [0.0, 0.0]
        let weight = 1 / Float(config.metaBatch)
        for (_, episode) in tasks {
            let r = accumulator.withUnsafeMutableBufferPointer { acc in
                learner.addMetaGradient(TaskImages(episode, pool: pool), weight: weight, into: acc)
            }
            totals[0] += r.loss
            totals[1] += r.accuracy
        }
        if communicator.size > 1 {
            try accumulator.withUnsafeMutableBufferPointer { try communicator.allreduce($0, op: .sum) }
            try communicator.allreduce(&totals, op: .sum)
        }
        let model = learner.model
        accumulator.withUnsafeBufferPointer { acc in _ = model.gradients.flat.update(from: acc) }
        optimizer.step(model)
        let mean = (totals[0] / Double(config.metaBatch), totals[1] / Double(config.metaBatch))
        guard mean.0.isFinite else {
            throw MetaInputError("meta-training diverged (query loss \(mean.0)) at meta-iteration \(s + 1); lower the learning rates")
        }
        return mean
    }

    // MARK: Remembered choices in checkpoints

    /// "id:d,d,...;..." (ways' shots in order) for a checkpoint's metadata.
    var encodedChoices: String {
        chosenSupport.keys.sorted().map { id in "\(id):" + chosenSupport[id]!.flatMap { $0 }.map(String.init).joined(separator: ",") }
            .joined(separator: ";")
    }

    func restoreChoices(_ text: String) throws {
        chosenSupport = [:]
        for item in text.split(separator: ";") {
            let parts = item.split(separator: ":")
            guard parts.count == 2, let id = Int(parts[0]) else { throw MetaInputError("checkpoint: damaged selection record") }
            let flat = parts[1].split(separator: ",").compactMap { Int($0) }
            guard flat.count == config.ways * config.shots else { throw MetaInputError("checkpoint: damaged selection record") }
            chosenSupport[id] = (0..<config.ways).map { Array(flat[($0 * config.shots)..<(($0 + 1) * config.shots)]) }
        }
    }
}

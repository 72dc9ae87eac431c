import Foundation

/// The bookkeeping every scheduler shares: trial ids, their sampled configurations
/// and the jobs in flight.
struct TrialBook: Equatable, Sendable {
    let space: SearchSpace
    let seed: UInt64
    /// Configuration of trial i at index i (ids are dense, from 0).
    private(set) var configs: [TrialConfig] = []
    /// The job each busy trial is running (a trial runs at most one job at a time).
    private(set) var running: [Int: Job] = [:]
    /// Ids whose configurations were sampled ahead to choose among
    /// (``newTrial(window:preference:)``) and that have not started, ascending.
    private(set) var reserved: [Int] = []

    init(space: SearchSpace, seed: UInt64) {
        self.space = space
        self.seed = seed
    }

    var trialsStarted: Int { configs.count - reserved.count }

    /// Allocates the next trial id and samples its configuration.
    mutating func newTrial() -> (id: Int, config: TrialConfig) {
        if !reserved.isEmpty {
            let id = reserved.removeFirst()
            return (id, configs[id])
        }
        let id = configs.count
        let config = space.sample(trial: id, seed: seed)
        configs.append(config)
        return (id, config)
    }

    /// Starts, among the lowest `window` ids not yet started, the one whose
    /// configuration `preference` scores highest (ties: the lowest id, so a constant
    /// preference starts ids in order). Configurations stay a function of the id.
    mutating func newTrial(window: Int, preference: (_ id: Int, _ config: TrialConfig) -> Int) -> (id: Int, config: TrialConfig) {
        let window = Swift.max(1, window)
        while reserved.count < window {
            let id = configs.count
            configs.append(space.sample(trial: id, seed: seed))
            reserved.append(id)
        }
        let chosen = reserved.prefix(window).firstIndexOfHighest { preference($0, configs[$0]) } ?? 0
        let id = reserved.remove(at: chosen)
        return (id, configs[id])
    }

    mutating func dispatch(_ job: Job) { running[job.trial] = job }

    /// Takes the job a result answers, or throws if there is none.
    mutating func complete(_ result: TrialResult) throws -> Job {
        guard let job = running[result.trial], job.rung == result.rung else {
            throw SchedulerError.unknownJob(trial: result.trial, rung: result.rung)
        }
        running[result.trial] = nil
        return job
    }

    /// Jobs in flight ordered by trial id (dictionary order is not stable).
    var inFlight: [Job] { running.values.sorted { $0.trial < $1.trial } }
}

extension BracketState {
    /// ASHA's promotion step as a job: take the candidate from the highest rung that
    /// has one, mark it promoted, and continue it from its checkpoint.
    mutating func takeASHAPromotion(configs: [TrialConfig], bracket index: Int) -> Job? {
        guard let (record, k) = ashaPromotion() else { return nil }
        markPromoted(trial: record.trial, rung: k)
        return Job(trial: record.trial, config: configs[record.trial], bracket: index, rung: k + 1,
                   resource: ladder.resource(rung: k + 1), resumeFrom: ladder.resource(rung: k))
    }
}

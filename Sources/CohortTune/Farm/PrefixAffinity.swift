import Foundation

/// The coordinator's picture of which cached intermediate results each worker holds,
/// so that among the jobs ready at once a free worker gets the one it can start
/// furthest along (a pipeline trial whose featurised data it built recently).
///
/// It is a hint, never a constraint: a worker whose cache has since dropped an entry
/// gets it from the shared cache or recomputes it, and no worker waits for a job with
/// a better match. Each worker is credited with the key chains of its last
/// `remembered` jobs, roughly what a worker's memory cache keeps.
public struct PrefixAffinity: Sendable {
    /// A trial's reuse keys, shallowest first (``TrainableFactory/reuseKeys(for:)``).
    public let keys: @Sendable (TrialConfig) -> [String]
    public let remembered: Int
    private var held: [Int: [[String]]] = [:]

    public init(remembered: Int = 8, keys: @escaping @Sendable (TrialConfig) -> [String]) {
        self.keys = keys
        self.remembered = max(1, remembered)
    }

    /// How many leading stages of `job` the worker is believed to hold.
    public func score(_ job: Job, worker: Int) -> Int {
        guard let chains = held[worker], !chains.isEmpty else { return 0 }
        let wanted = keys(job.config)
        var best = 0
        for chain in chains {
            var depth = 0
            while depth < wanted.count, depth < chain.count, wanted[depth] == chain[depth] { depth += 1 }
            best = max(best, depth)
        }
        return best
    }

    /// Records that `worker` runs `job`: it will hold the job's chain.
    public mutating func note(_ job: Job, worker: Int) {
        let chain = keys(job.config)
        guard !chain.isEmpty else { return }
        var chains = held[worker] ?? []
        chains.removeAll { $0 == chain }
        chains.append(chain)
        if chains.count > remembered { chains.removeFirst(chains.count - remembered) }
        held[worker] = chains
    }
}

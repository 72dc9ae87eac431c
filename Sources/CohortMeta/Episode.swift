import CohortTensor

/// One N-way task: N classes of a pool, for each a few candidate drawings of which
/// `shots` receive labels (the support set), and `queries` further labelled drawings.
///
/// Ways are numbered 0..<N in the order of `classes`; that number is the label the
/// learner sees, so a class means nothing across tasks.
public struct Episode: Sendable, Equatable {
    /// Pool classes, one per way.
    public let classes: [Int]
    /// Per way, the drawings a selection may label (uniform choice takes the first).
    public let candidates: [[Int]]
    /// Per way, the labelled query drawings (disjoint from the candidates).
    public let queries: [[Int]]
    /// Per way, the labelled support drawings, chosen from `candidates`.
    public var support: [[Int]]

    public var ways: Int { classes.count }

    /// Draws a task from `pool` with `stream`: classes without repetition, then for each
    /// class a random order of its drawings split into candidates and queries. Support
    /// starts as the first `shots` candidates (uniform stratified choice).
    public static func draw(from pool: ClassPool, ways: Int, shots: Int, candidates: Int, queries: Int,
                            stream: inout RandomStream) -> Episode {
        precondition(ways <= pool.classCount && candidates >= shots, "episode larger than its pool")
        var chosen: [Int] = [], seen = Set<Int>()
        while chosen.count < ways {
            let c = stream.index(below: pool.classCount)
            if seen.insert(c).inserted { chosen.append(c) }
        }
        var pools: [[Int]] = [], asked: [[Int]] = []
        for c in chosen {
            let order = stream.permutation(pool.count(of: c))
            precondition(order.count >= candidates + queries, "class \(c) has \(order.count) drawings, the episode needs \(candidates + queries)")
            pools.append(Array(order[0..<candidates]))
            asked.append(Array(order[candidates..<(candidates + queries)]))
        }
        return Episode(classes: chosen, candidates: pools, queries: asked, support: pools.map { Array($0[0..<shots]) })
    }

    /// Labelled points: support plus queries.
    public var labelCount: Int { support.reduce(0) { $0 + $1.count } + queries.reduce(0) { $0 + $1.count } }
}

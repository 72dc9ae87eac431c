import CohortTensor

/// Which candidate drawings of a task receive labels.
///
/// - `uniform`: stratified uniform choice, the first `shots` of each way's randomly
///   ordered candidates (the reference code's only sampler).
/// - `coverage`: the current network embeds every candidate of the task (one batch),
///   and for each way a greedy facility-location choice picks the `shots` candidates
///   that leave the way's other candidates closest to a chosen one (for one shot: the
///   medoid). It asks for no more labels than `uniform`; it does need to know which
///   candidates were drawn for the same way, as any stratified choice does.
public enum SelectionKind: String, CaseIterable, Sendable {
    case uniform, coverage
}

public enum SupportSelection {
    /// `episode` with its support chosen by `kind` (unchanged for `uniform`).
    public static func select(_ kind: SelectionKind, episode: Episode, shots: Int, pool: ClassPool,
                              learner: MetaLearner, tape: Tape) -> Episode {
        guard kind == .coverage, episode.candidates.contains(where: { $0.count > shots }) else { return episode }
        var candidatesOnly = episode
        candidatesOnly.support = episode.candidates
        let images = TaskImages(candidatesOnly, pool: pool)
        let embedding = learner.embed(images.support, count: images.supportCount, sampleShape: images.sampleShape, tape: tape)
        let width = embedding.count / max(images.supportCount, 1)
        var chosen = episode
        var row = 0
        for way in 0..<episode.ways {
            let m = episode.candidates[way].count
            let rows = Array(row..<(row + m))
            row += m
            let picked = facilityLocation(rows.map { Array(embedding[($0 * width)..<(($0 + 1) * width)]) }, count: shots)
            chosen.support[way] = picked.map { episode.candidates[way][$0] }
        }
        return chosen
    }

    /// Greedy facility location: `count` of `points` minimising the summed squared
    /// distance of every point to its nearest chosen one (ties: the lower index).
    static func facilityLocation(_ points: [[Float]], count: Int) -> [Int] {
        let n = points.count
        var distance = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in 0..<n where j > i {
                var s = 0.0
                for k in 0..<points[i].count { let d = Double(points[i][k] - points[j][k]); s += d * d }
                distance[i][j] = s
                distance[j][i] = s
            }
        }
        var nearest = [Double](repeating: .infinity, count: n)
        var picked: [Int] = []
        for _ in 0..<min(count, n) {
            var best = -1, bestCost = Double.infinity
            for c in 0..<n where !picked.contains(c) {
                var cost = 0.0
                for p in 0..<n { cost += min(nearest[p], distance[p][c]) }
                if cost < bestCost { best = c; bestCost = cost }
            }
            picked.append(best)
            for p in 0..<n { nearest[p] = min(nearest[p], distance[p][best]) }
        }
        return picked
    }
}

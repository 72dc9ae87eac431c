import CohortCluster
import CohortTensor
import Foundation

/// Uniformly random connected architectures, for baselines: the same list for the
/// same seed on every machine. A draw that computes the same function as an earlier
/// one (the same canonical form) is drawn again, so a baseline never counts one
/// network twice.
public enum ArchitectureSampler {
    public static func uniform(count: Int, seed: UInt64) -> [CellArchitecture] {
        var rng = RandomStream(seed: seed, stream: [StreamPurpose.baselineSampling])
        var seen = Set<CellArchitecture>(), cells: [CellArchitecture] = []
        while cells.count < Swift.min(count, CellArchitecture.distinctConnectedCount) {
            let cell = CellArchitecture.randomConnected(&rng)
            if seen.insert(cell.canonical).inserted { cells.append(cell) }
        }
        return cells
    }
}

import Foundation
@testable import CohortNAS

/// A search small enough for debug builds: the embedded 8x8 digits, a supernet of
/// two channels and one cell, one short epoch.
func tinyConfig(_ strategy: NASConfig.Strategy, seed: UInt64 = 5, extra: String = "") throws -> NASConfig {
    try NASConfig.parse("""
    name: tiny-\(strategy.rawValue)
    seed: \(seed)
    dataset: digits
    network: {channels: 2, cells: [1]}
    search:
      samples: 400
      epochs: 1
      batch_size: 32
      verify_every: 1
      record_every: 2
    strategy:
      type: \(strategy.rawValue)
    \(strategy == .rsws ? "  architectures: 12\n  score_batches: 2\n  score_batch_size: 50\n  rescore_top: 3" : "")
    retrain:
      top: 2
      samples: 300
      epochs: 1
      batch_size: 30
      workers: 2
    \(extra)
    """)
}

/// A fresh directory under the temporary directory.
func temporaryDirectory(_ name: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-nas-tests-\(name)-\(UUID().uuidString)")
    return url
}

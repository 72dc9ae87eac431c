import CohortData
import Foundation

/// A dataset cut three ways for a search: trials train on `train`, are ranked on
/// `validation` (held out of the training set, so the search never sees the test
/// set), and the best configuration is finally scored once on `test`.
public struct TuningData: Sendable {
    public var train: Dataset
    public var validation: Dataset
    public var test: Dataset

    /// Tags the validation split's stream apart from other streams of the seed.
    static let validationStream: UInt64 = 0x5475_6E65_5661_6C69 // "TuneVali"

    /// Loads `dataset` through `DatasetCatalog` and holds out a stratified
    /// `validationFraction` of its training set, drawn from the experiment seed.
    public static func load(dataset: String, dataDirectory: String?, validationFraction: Double, seed: UInt64) throws -> TuningData {
        let (all, test) = try DatasetCatalog.load(name: dataset, dataDirectory: dataDirectory)
        let (train, validation) = try all.holdOut(fraction: validationFraction, seed: seed, stream: validationStream)
        let base = all.name.hasSuffix("/train") ? String(all.name.dropLast("/train".count)) : all.name
        return TuningData(train: train.renamed(base + "/train"), validation: validation.renamed(base + "/validation"),
                          test: test.renamed(base + "/test"))
    }

    /// Splits already loaded in this process, so that the coordinator, every job of a
    /// worker and every in-process worker share one copy of the data (Fashion-MNIST
    /// takes about a second to decompress and 200 MB to hold).
    public static func cached(dataset: String, dataDirectory: String?, validationFraction: Double, seed: UInt64) throws -> TuningData {
        try Cache.shared.value(Cache.Key(dataset: dataset, dataDirectory: dataDirectory, fraction: validationFraction, seed: seed))
    }

    final class Cache: @unchecked Sendable {
        struct Key: Hashable {
            var dataset: String
            var dataDirectory: String?
            var fraction: Double
            var seed: UInt64
        }

        static let shared = Cache()
        private let lock = NSLock()
        private var entries: [Key: TuningData] = [:]

        /// Loads under the lock: concurrent workers of one process wait for the first
        /// load instead of each decompressing the files.
        func value(_ key: Key) throws -> TuningData {
            lock.lock()
            defer { lock.unlock() }
            if let hit = entries[key] { return hit }
            let data = try TuningData.load(dataset: key.dataset, dataDirectory: key.dataDirectory,
                                           validationFraction: key.fraction, seed: key.seed)
            entries[key] = data
            return data
        }
    }
}

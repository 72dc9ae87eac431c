import CohortData
import CohortTensor

/// The data of a search and of a retraining, cut from one dataset by the seed alone:
/// every rank, and every rerun, gets the same samples in the same parts.
public struct NASData: Sendable {
    public var train: Dataset
    public var validation: Dataset
    /// Held-out test data (reported for retrained architectures, never used to choose).
    public var test: Dataset
    /// Per-sample image shape [C, H, W].
    public var imageShape: [Int]
    public var classes: Int { train.classCount }

    /// The search's data: `search.samples` training samples (all when unset), split
    /// 1:1 into a half that trains the supernet's weights and a validation half that
    /// scores architectures (and trains GAEA's and DARTS' architecture weights), as
    /// random search with weight sharing does.
    public static func search(_ config: NASConfig) throws -> NASData {
        try prepare(config, samples: config.search.samples, validationFraction: 0.5, splitStream: StreamPurpose.searchSplit)
    }

    /// A retraining's data: `retrain.samples` training samples with
    /// `retrain.validationFraction` of them held out to rank candidates, and the
    /// dataset's test split.
    public static func retrain(_ config: NASConfig) throws -> NASData {
        try prepare(config, samples: config.retrain.samples, validationFraction: config.retrain.validationFraction,
                    splitStream: StreamPurpose.retrainSplit)
    }

    private static func prepare(_ config: NASConfig, samples: Int?, validationFraction: Double, splitStream: UInt64) throws -> NASData {
        do {
            let (all, test) = try DatasetCatalog.load(name: config.dataset, dataDirectory: config.dataDirectory)
            let shape = try CellNetwork.imageShape(all.sampleShape)
            var pool = all
            if let samples {
                guard samples <= all.count else {
                    throw NASInputError("\(samples) samples were asked for, but \(config.dataset) has \(all.count) training samples")
                }
                // The same subset for a search and a retraining of the same size.
                var rng = RandomStream(seed: config.seed, stream: [StreamPurpose.trainingSubset])
                pool = try all.subset(rng.permutation(all.count).prefix(samples).sorted())
            }
            let (train, validation) = try pool.holdOut(fraction: validationFraction, seed: config.seed, stream: splitStream)
            guard train.count >= 2, validation.count >= 2 else {
                throw NASInputError("\(pool.count) samples are too few to split into training and validation parts")
            }
            return NASData(train: try train.reshaped(to: shape),
                           validation: try validation.reshaped(to: shape).renamed(all.name + "/validation"),
                           test: try test.reshaped(to: shape), imageShape: shape)
        } catch let e as NASInputError {
            throw e
        } catch {
            throw NASInputError("\(error)")
        }
    }
}

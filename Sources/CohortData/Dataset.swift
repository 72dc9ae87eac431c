/// A labelled classification dataset held in memory.
///
/// Features are plain `Float`s, row-major, one sample after another, each sample of shape
/// `sampleShape` (e.g. `[64]` for a feature vector, `[1, 28, 28]` for a one-channel image).
/// The type knows nothing of tensors so that any model, and any rank, can consume it: a
/// training loop copies the samples of a batch into its own preallocated input buffers
/// (see `fillBatch(_:features:labels:)`).
public struct Dataset: Sendable, Equatable {
    /// A short name for messages and run records, e.g. `"digits/train"`.
    public var name: String
    /// The shape of one sample; its product is `featureCount`.
    public let sampleShape: [Int]
    /// `count * featureCount` values, sample `i` at `i * featureCount ..< (i + 1) * featureCount`.
    public internal(set) var features: [Float]
    /// One class index in `0 ..< classCount` per sample.
    public let labels: [Int32]
    /// The number of classes; the model's output width. May exceed the largest label
    /// present (a subset need not hold every class).
    public let classCount: Int
    /// Optional class names, `classNames[k]` naming class `k`.
    public let classNames: [String]?

    // MARK: Creating

    /// Creates a dataset after checking that features, shape and labels agree.
    public init(name: String, sampleShape: [Int], features: [Float], labels: [Int32],
                classCount: Int, classNames: [String]? = nil) throws {
        guard !sampleShape.isEmpty, sampleShape.allSatisfy({ $0 > 0 }) else {
            throw DatasetError.invalidArgument("dataset \(name): sample shape \(sampleShape) must have positive dimensions")
        }
        let featureCount = sampleShape.reduce(1, *)
        guard features.count == labels.count * featureCount else {
            throw DatasetError.invalidArgument(
                "dataset \(name): \(features.count) feature values do not make \(labels.count) samples of shape \(sampleShape)")
        }
        guard classCount > 0 else {
            throw DatasetError.invalidArgument("dataset \(name): class count must be positive, got \(classCount)")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw DatasetError.invalidArgument(
                "dataset \(name): label \(labels[bad]) of sample \(bad) is outside 0..<\(classCount)")
        }
        if let classNames, classNames.count != classCount {
            throw DatasetError.invalidArgument(
                "dataset \(name): \(classNames.count) class names for \(classCount) classes")
        }
        self.init(validatedName: name, sampleShape: sampleShape, features: features, labels: labels,
                  classCount: classCount, classNames: classNames)
    }

    /// Skips validation; for values derived from an already valid dataset.
    init(validatedName name: String, sampleShape: [Int], features: [Float], labels: [Int32],
         classCount: Int, classNames: [String]?) {
        self.name = name
        self.sampleShape = sampleShape
        self.features = features
        self.labels = labels
        self.classCount = classCount
        self.classNames = classNames
    }

    // MARK: Size

    /// The number of samples.
    public var count: Int { labels.count }

    /// Values per sample: the product of `sampleShape`.
    public var featureCount: Int { sampleShape.reduce(1, *) }

    /// How many samples carry each class label, indexed by class.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    // MARK: Reading samples

    /// The features of sample `index` (a copy; for inspection, not for hot loops).
    public func sampleFeatures(_ index: Int) -> [Float] {
        precondition(index >= 0 && index < count, "sample \(index) outside 0..<\(count) in dataset \(name)")
        let width = featureCount
        return Array(features[index * width ..< (index + 1) * width])
    }

    // MARK: Deriving datasets

    /// The samples at `indices`, in that order (an index may repeat).
    public func subset<Indices: Sequence>(_ indices: Indices, name: String? = nil) throws -> Dataset
    where Indices.Element == Int {
        let picked = Array(indices)
        if let bad = picked.first(where: { $0 < 0 || $0 >= count }) {
            throw DatasetError.invalidArgument("dataset \(self.name): subset index \(bad) outside 0..<\(count)")
        }
        let width = featureCount
        var newFeatures = [Float](repeating: 0, count: picked.count * width)
        var newLabels = [Int32](repeating: 0, count: picked.count)
        features.withUnsafeBufferPointer { source in
            newFeatures.withUnsafeMutableBufferPointer { target in
                for (row, index) in picked.enumerated() {
                    let from = UnsafeBufferPointer(rebasing: source[index * width ..< (index + 1) * width])
                    _ = UnsafeMutableBufferPointer(rebasing: target[row * width ..< (row + 1) * width])
                        .initialize(from: from)
                }
            }
        }
        for (row, index) in picked.enumerated() { newLabels[row] = labels[index] }
        return Dataset(validatedName: name ?? self.name, sampleShape: sampleShape, features: newFeatures,
                       labels: newLabels, classCount: classCount, classNames: classNames)
    }

    /// The same samples viewed with another sample shape of the same size (e.g. `[64]` to
    /// `[1, 8, 8]`); the feature buffer is shared, not copied.
    public func reshaped(to shape: [Int]) throws -> Dataset {
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }), shape.reduce(1, *) == featureCount else {
            throw DatasetError.invalidArgument(
                "dataset \(name): cannot view samples of shape \(sampleShape) as \(shape)")
        }
        return Dataset(validatedName: name, sampleShape: shape, features: features, labels: labels,
                       classCount: classCount, classNames: classNames)
    }

    /// The same dataset under another name.
    public func renamed(_ newName: String) -> Dataset {
        var copy = self
        copy.name = newName
        return copy
    }

    /// Gives mutable access to the feature values, e.g. to rescale them in place.
    /// The closure must not change the number of values.
    public mutating func withMutableFeatures<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try features.withUnsafeMutableBufferPointer { try body($0) }
    }
}

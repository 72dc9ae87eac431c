/// Named datasets, each as a fixed train/test pair, so a config can say `dataset: digits`.
///
/// | name            | source                                            | train / test   |
/// |-----------------|---------------------------------------------------|----------------|
/// | `digits`        | embedded UCI 8x8 digits (`EmbeddedDigits`)        | 1,348 / 449    |
/// | `fashion-mnist` | IDX files, `/usr/share/datasets/fashion-mnist`    | 60,000 / 10,000|
/// | `mnist`         | IDX files, `/usr/share/datasets/mnist`            | 60,000 / 10,000|
/// | a directory     | MNIST-style IDX files (`MNISTDirectory`)          | as stored      |
/// | a CSV file      | `CSVDataset`, label in the last column            | 3/4 / 1/4      |
///
/// Feature values come out in `[0, 1]` for the image datasets (pixels divided by their
/// maximum, 16 or 255, a fixed map that needs no statistics) and unchanged for CSV files.
/// Where the source has no test part (digits, CSV) the test set is a stratified quarter
/// drawn with the fixed seed `splitSeed`, so it is the same on every machine and in every
/// run, and never depends on the experiment seed.
public enum DatasetCatalog {
    /// The names `load(name:dataDirectory:)` knows besides paths.
    public static let knownNames = ["digits", "fashion-mnist", "mnist"]
    /// Where Debian's `dataset-fashion-mnist` installs its files.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"
    /// Where MNIST is looked for when no directory is given.
    public static let mnistDirectory = "/usr/share/datasets/mnist"
    /// The share of a test-less source held out as its test set.
    public static let testFraction = 0.25
    /// The seed of the held-out test split of test-less sources.
    public static let splitSeed: UInt64 = 1_797

    /// Fashion-MNIST's class names, by label.
    public static let fashionMNISTClassNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Loads a dataset by name or path.
    ///
    /// - Parameters:
    ///   - name: `digits`, `fashion-mnist`, `mnist`, a directory of MNIST-style IDX files
    ///     or a CSV file (raw or `.gz`).
    ///   - dataDirectory: where the IDX files of `fashion-mnist` or `mnist` are, instead of
    ///     the default; for a relative path `name`, the directory it is relative to.
    ///     `digits` ignores it (it is compiled in).
    public static func load(name: String, dataDirectory: String? = nil) throws -> (train: Dataset, test: Dataset) {
        switch name.lowercased() {
        case "digits":
            return try digits()
        case "fashion-mnist", "fashion_mnist", "fashionmnist":
            let directory = try defaultDirectory(fashionMNISTDirectory, given: dataDirectory, name: "fashion-mnist",
                                                 hint: "install Debian's dataset-fashion-mnist (scripts/setup.sh)")
            return try MNISTDirectory.load(directory, name: "fashion-mnist", classNames: fashionMNISTClassNames)
        case "mnist":
            let directory = try defaultDirectory(mnistDirectory, given: dataDirectory, name: "mnist",
                                                 hint: "download the four MNIST IDX files")
            return try MNISTDirectory.load(directory, name: "mnist", classNames: (0 ..< 10).map(String.init))
        default:
            return try loadPath(name, relativeTo: dataDirectory)
        }
    }

    /// The embedded digits, pixels scaled to `[0, 1]`, split 3:1 (stratified, `splitSeed`).
    public static func digits() throws -> (train: Dataset, test: Dataset) {
        var all = try EmbeddedDigits.load()
        try Normalization.dividing(by: EmbeddedDigits.maximumPixel).apply(to: &all)
        let (train, test) = try all.holdOut(fraction: testFraction, seed: splitSeed)
        return (train.renamed("digits/train"), test.renamed("digits/test"))
    }

    // MARK: Paths

    /// The given directory, or the default one if it exists, or an error that says how to
    /// get the data.
    private static func defaultDirectory(_ fallback: String, given: String?, name: String, hint: String) throws -> String {
        if let given { return given }
        guard DataFile.directoryExists(fallback) else {
            throw DatasetError.invalidArgument(
                "\(name): \(fallback) does not exist; \(hint) or give a data directory holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz")
        }
        return fallback
    }

    private static func loadPath(_ name: String, relativeTo directory: String?) throws -> (train: Dataset, test: Dataset) {
        var candidates = [name]
        if let directory, !name.hasPrefix("/") { candidates.insert(DataFile.join(directory, name), at: 0) }
        for path in candidates {
            if DataFile.directoryExists(path) {
                guard MNISTDirectory.looksLikeDataset(path) else {
                    throw DatasetError.missingDatasetFiles(directory: path,
                                                           looked: MNISTDirectory.candidateNames(split: "train", kind: "images"))
                }
                let base = path.split(separator: "/").last.map(String.init) ?? path
                return try MNISTDirectory.load(path, name: base)
            }
            if DataFile.exists(path) {
                let all = try CSVDataset.load(path)
                let (train, test) = try all.holdOut(fraction: testFraction, seed: splitSeed)
                return (train.renamed(all.name + "/train"), test.renamed(all.name + "/test"))
            }
        }
        if name.contains("/") || name.hasSuffix(".csv") || name.hasSuffix(".gz") {
            throw DatasetError.fileNotFound(path: candidates[0])
        }
        throw DatasetError.unknownDataset(name: name, known: knownNames)
    }
}

/// A directory holding the four IDX files of an MNIST-style dataset (MNIST, Fashion-MNIST,
/// KMNIST, ...), raw or gzip-compressed, under their usual names:
/// `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`,
/// `t10k-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]` (the dotted spelling
/// `train-images.idx3-ubyte` of some downloads is accepted too).
public enum MNISTDirectory {
    /// The file names tried for each part, first match wins.
    public static func candidateNames(split: String, kind: String) -> [String] {
        let dimensions = kind == "images" ? "idx3" : "idx1"
        let dashed = "\(split)-\(kind)-\(dimensions)-ubyte"
        let dotted = "\(split)-\(kind).\(dimensions)-ubyte"
        return [dashed + ".gz", dashed, dotted + ".gz", dotted]
    }

    /// Whether `directory` holds at least a training images file.
    public static func looksLikeDataset(_ directory: String) -> Bool {
        candidateNames(split: "train", kind: "images").contains { DataFile.exists(DataFile.join(directory, $0)) }
    }

    /// Loads the training and test sets, pixels multiplied by `pixelScale` (default
    /// `1 / 255`, i.e. values in `[0, 1]`), samples of shape `[1, rows, columns]`.
    public static func load(_ directory: String, name: String, classCount: Int = 10,
                            classNames: [String]? = nil,
                            pixelScale: Float = 1 / 255) throws -> (train: Dataset, test: Dataset) {
        guard DataFile.directoryExists(directory) else { throw DatasetError.fileNotFound(path: directory) }
        func part(_ split: String, _ label: String) throws -> Dataset {
            let images = try locate(directory, split: split, kind: "images")
            let labels = try locate(directory, split: split, kind: "labels")
            var data = try IDXFormat.loadDataset(imagesPath: images, labelsPath: labels, name: "\(name)/\(label)",
                                                 classCount: classCount, pixelScale: pixelScale)
            if let classNames {
                data = try Dataset(name: data.name, sampleShape: data.sampleShape, features: data.features,
                                   labels: data.labels, classCount: classCount, classNames: classNames)
            }
            return data
        }
        return (try part("train", "train"), try part("t10k", "test"))
    }

    private static func locate(_ directory: String, split: String, kind: String) throws -> String {
        let names = candidateNames(split: split, kind: kind)
        for name in names {
            let path = DataFile.join(directory, name)
            if DataFile.exists(path) { return path }
        }
        throw DatasetError.missingDatasetFiles(directory: directory, looked: names)
    }
}

import CohortFiles
import CohortData
import CohortTune

/// Where a run's federation comes from, as the `data:` section of a config names it.
///
/// ```yaml
/// data:                          # FedProx Synthetic(alpha, beta)
///   source: synthetic
///   alpha: 1
///   beta: 1
///   iid: false
///   validation_fraction: 0.1     # carved from each client's training part
/// data:                          # a centralized data set split among clients
///   source: fashion-mnist        # digits | fashion-mnist | mnist | a CSV file | an IDX directory
///   use: train                   # train (the training split) | all (train and test pooled)
///   clients: 100
///   partition: dirichlet         # iid | dirichlet | shards
///   alpha: 0.5                   # dirichlet
///   minimum_samples: 10          # dirichlet: redraw until every client has this many
///   shards_per_client: 2         # shards
///   validation_fraction: 0.1
///   test_fraction: 0.2
///   held_out_clients: 10
/// data:                          # LEAF JSON (FEMNIST, Synthetic, ...)
///   source: leaf
///   train: data/femnist/train    # a .json file or a directory of them
///   test: data/femnist/test
///   classes: 62
///   sample_shape: [1, 28, 28]
///   vocabulary: leaf             # text data (LEAF's Shakespeare): LEAF's 80 characters,
///                                # or the characters themselves as one string
/// data:                          # LEAF's Shakespeare, built from the plays
///   source: shakespeare
///   plays_dir: /usr/local/share/cohort/plays   # default: where scripts/setup.sh puts them
///   plays: [macbeth, hamlet]     # default: every play
///   clients: 100                 # default: every role with enough samples
///   sequence_length: 80
///   train_fraction: 0.8
///   minimum_samples: 64
///   vocabulary: leaf
/// ```
///
/// `seed` (default: the experiment seed) names the generated data and the partition, so
/// a config names its data set exactly.
public struct DataSpec: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        case synthetic(SyntheticFedProx)
        case centralized(name: String, dataDirectory: String?, pooled: Bool, clients: Int,
                         scheme: PartitionScheme, testFraction: Double)
        case leaf(train: String, test: String?, classes: Int?, sampleShape: [Int]?, vocabulary: CharacterVocabulary?)
        case shakespeare(ShakespeareClients)
    }

    public var source: Source
    public var validationFraction: Double
    public var heldOutClients: Int
    public var seed: UInt64

    /// Builds the federation (every rank does, identically).
    public func load() throws -> FederatedDataset {
        switch source {
        case let .synthetic(spec):
            return try spec.generate(seed: seed)
                .carvingValidation(fraction: validationFraction, seed: seed)
                .holdingOut(heldOutClients, seed: seed)
        case let .centralized(name, directory, pooled, clients, scheme, testFraction):
            let (train, test) = try FederatedError.wrappingDataErrors {
                try DatasetCatalog.load(name: name, dataDirectory: directory)
            }
            let source = pooled ? try Self.concatenate(train, test, name: name) : train.renamed(name)
            return try FederatedDataset.partitioning(
                source, clients: clients, scheme: scheme, validationFraction: validationFraction,
                testFraction: testFraction, heldOutClients: heldOutClients, seed: seed)
        case let .leaf(train, test, classes, shape, vocabulary):
            let name = train.split(separator: "/").last.map(String.init) ?? "leaf"
            return try LEAFFormat.load(trainPath: train, testPath: test, name: name, classCount: classes, sampleShape: shape,
                                       vocabulary: vocabulary)
                .carvingValidation(fraction: validationFraction, seed: seed)
                .holdingOut(heldOutClients, seed: seed)
        case let .shakespeare(spec):
            return try spec.build(seed: seed)
                .carvingValidation(fraction: validationFraction, seed: seed)
                .holdingOut(heldOutClients, seed: seed)
        }
    }

    /// `vocabulary:`, `leaf` or the characters as one string.
    private static func vocabulary(_ section: ConfigSection) -> CharacterVocabulary? {
        guard let text = section.string("vocabulary") else { return nil }
        do { return try CharacterVocabulary.named(text) } catch {
            section.issues.add(section.at("vocabulary"), "\(error)")
            return nil
        }
    }

    private static func concatenate(_ a: Dataset, _ b: Dataset, name: String) throws -> Dataset {
        try FederatedError.wrappingDataErrors {
            try Dataset(name: name, sampleShape: a.sampleShape, features: a.features + b.features,
                        labels: a.labels + b.labels, classCount: max(a.classCount, b.classCount),
                        classNames: a.classNames)
        }
    }

    // MARK: Reading the config

    static func parse(_ section: ConfigSection, experimentSeed: UInt64) -> DataSpec? {
        let issues = section.issues
        let before = issues.count
        let source = section.string("source") ?? {
            issues.add(section.at("source"), "is missing (synthetic, digits, fashion-mnist, mnist, leaf, shakespeare, or a path)")
            return ""
        }()
        let validation = section.double("validation_fraction", default: 0)
        let heldOut = section.int("held_out_clients", default: 0)
        var seed = experimentSeed
        if let s = section.int("seed") {
            if s >= 0 { seed = UInt64(s) } else { issues.add(section.at("seed"), "must be a non-negative integer, got \(s)") }
        }
        let common = ["source", "validation_fraction", "held_out_clients", "seed"]
        section.check { try FederatedError.requireFraction(validation, section.at("validation_fraction")) }
        section.check { try FederatedError.requireAtLeast(heldOut, 0, section.at("held_out_clients")) }

        var parsed: Source?
        switch source {
        case "synthetic", "synthetic-iid":
            section.finish(also: common + ["alpha", "beta", "iid", "users", "dimension", "classes"])
            let spec = SyntheticFedProx(
                alpha: section.double("alpha", default: 0), beta: section.double("beta", default: 0),
                iid: section.bool("iid", default: source == "synthetic-iid"), users: section.int("users", default: 30),
                dimension: section.int("dimension", default: 60), classes: section.int("classes", default: 10))
            if !section.has("alpha") && !spec.iid { issues.add(section.at("alpha"), "is missing (Synthetic(alpha, beta) needs both)") }
            if !section.has("beta") && !spec.iid { issues.add(section.at("beta"), "is missing (Synthetic(alpha, beta) needs both)") }
            section.check { try spec.validate() }
            parsed = .synthetic(spec)
        case "leaf":
            section.finish(also: common + ["train", "test", "classes", "sample_shape", "vocabulary"])
            let train = section.string("train")
            if train == nil { issues.add(section.at("train"), "is missing (a LEAF .json file or a directory of them)") }
            let classes = section.int("classes")
            if let classes, classes < 2 { issues.add(section.at("classes"), "must be at least 2, got \(classes)") }
            let vocabulary = Self.vocabulary(section)
            if let vocabulary, let classes, classes != vocabulary.count {
                issues.add(section.at("classes"), "is \(classes) but the vocabulary has \(vocabulary.count) characters")
            }
            parsed = train.map { .leaf(train: $0, test: section.string("test"), classes: classes,
                                       sampleShape: section.integers("sample_shape"), vocabulary: vocabulary) }
        case "shakespeare":
            section.finish(also: common + ["plays_dir", "plays", "clients", "sequence_length", "train_fraction",
                                        "minimum_samples", "vocabulary"])
            var spec = ShakespeareClients(directory: section.string("plays_dir") ?? PlayScript.defaultDirectory)
            spec.plays = section.strings("plays") ?? []
            spec.clients = section.int("clients")
            spec.sequenceLength = section.int("sequence_length", default: 80)
            spec.trainFraction = section.double("train_fraction", default: 0.8)
            spec.minimumSamples = section.int("minimum_samples", default: 64)
            if let vocabulary = Self.vocabulary(section) { spec.vocabulary = vocabulary }
            section.check { try spec.validate() }
            parsed = .shakespeare(spec)
        case "":
            break
        default:
            section.finish(also: common + ["use", "clients", "partition", "alpha", "minimum_samples", "shards_per_client",
                                        "test_fraction", "data_dir"])
            let use = section.string("use", default: "train")
            if use != "train" && use != "all" { issues.add(section.at("use"), "must be train or all, got '\(use)'") }
            let clients = section.int("clients")
            if clients == nil { issues.add(section.at("clients"), "is missing (how many clients to split the data among)") }
            if let clients, clients < 1 { issues.add(section.at("clients"), "must be at least 1, got \(clients)") }
            let testFraction = section.double("test_fraction", default: 0.2)
            section.check { try FederatedError.requireFraction(testFraction, section.at("test_fraction")) }
            if validation + testFraction >= 1 {
                issues.add(section.path, "validation_fraction + test_fraction (\(validation) + \(testFraction)) leaves nothing to train on")
            }
            let partition = section.string("partition", default: "iid")
            var scheme: PartitionScheme?
            switch partition {
            case "iid":
                scheme = .iid
            case "dirichlet":
                guard let alpha = section.double("alpha") else {
                    issues.add(section.at("alpha"), "is missing (the Dirichlet concentration, e.g. 0.5)")
                    break
                }
                if !(alpha > 0) { issues.add(section.at("alpha"), "must be a positive number, got \(alpha)") }
                let minimum = section.int("minimum_samples", default: 10)
                if minimum < 0 { issues.add(section.at("minimum_samples"), "must be at least 0, got \(minimum)") }
                scheme = .dirichlet(alpha: alpha, minimumSamples: minimum)
            case "shards":
                let perClient = section.int("shards_per_client", default: 2)
                if perClient < 1 { issues.add(section.at("shards_per_client"), "must be at least 1, got \(perClient)") }
                scheme = .shards(perClient: perClient)
            default:
                issues.add(section.at("partition"), "unknown partition '\(partition)' (expected one of iid, dirichlet, shards)")
            }
            if let clients, let scheme {
                parsed = .centralized(name: source, dataDirectory: section.string("data_dir"), pooled: use == "all",
                                      clients: clients, scheme: scheme, testFraction: testFraction)
            }
        }
        guard issues.count == before, let parsed else { return nil }
        return DataSpec(source: parsed, validationFraction: validation, heldOutClients: heldOut, seed: seed)
    }
}

import CohortData
import CohortFiles
import Foundation

/// Builds the trials of a character language model on plays (`type: char_lstm`); the
/// hyperparameters come from the space (``CharacterModelHyperparameters``).
///
/// ```yaml
/// trainable:
///   type: char_lstm
///   plays_dir: /usr/local/share/cohort/plays   # default: where scripts/setup.sh puts them
///   plays: [macbeth, hamlet, othello]          # default: all of them
///   sequence_length: 64       # characters per truncated-backpropagation segment
///   steps_per_unit: 100       # optimizer steps in one unit of resource
///   validation_fraction: 0.1  # the corpus's last characters, before the test part
///   test_fraction: 0.1        # its very last characters
///   vocabulary: leaf          # LEAF's 80 characters; others become spaces
/// ```
///
/// The corpus is the chosen plays' text, role after role and play after play, cut in
/// three contiguous parts (train, validation, test), read while the config is checked.
public struct CharacterModelTrainableFactory: TrainableFactory {
    public struct Corpus: Sendable {
        public var vocabulary: CharacterVocabulary
        public var train: [Int32], validation: [Int32], test: [Int32]
    }

    public let context: TrainableContext
    public let sequenceLength: Int
    public let stepsPerUnit: Int
    public let corpus: Corpus
    /// Streams an evaluation reads the validation or test text as.
    static let evaluationStreams = 32

    public init(section s: ConfigSection, context: TrainableContext) throws {
        self.context = context
        let directory = s.string("plays_dir") ?? PlayScript.defaultDirectory
        let plays = s.strings("plays") ?? []
        sequenceLength = s.int("sequence_length", default: 64, min: 1, max: 100_000)
        stepsPerUnit = s.int("steps_per_unit", default: 100, min: 1, max: 1 << 30)
        let validation = s.double("validation_fraction", default: 0.1, min: 0.001, max: 0.5)
        let test = s.double("test_fraction", default: 0.1, min: 0.001, max: 0.5)
        let vocabularyName = s.string("vocabulary", default: "leaf")
        if context.mode != .min {
            s.issue("metric", "validation bits per character is minimised: set mode: min (the config says mode: \(context.mode.rawValue))")
        }
        s.finish(also: ["type"])
        let issues = s.issues
        CharacterModelHyperparameters.issues(in: context.space).forEach(issues.add)
        var loaded: Corpus?
        if issues.isEmpty {
            do {
                let vocabulary = try CharacterVocabulary.named(vocabularyName)
                let available = try PlayScript.files(in: directory).map(\.name)
                if let unknown = plays.first(where: { !available.contains($0) }) {
                    throw ConfigError(at: "trainable.plays", "no play '\(unknown)' in \(directory)")
                }
                let scripts = try PlayScript.readDirectory(directory, only: plays)
                let text = try vocabulary.encode(vocabulary.restricting(scripts.map(\.text).joined()), what: "plays")
                let testCount = Int(Double(text.count) * test), validationCount = Int(Double(text.count) * validation)
                let trainCount = text.count - testCount - validationCount
                guard min(testCount, validationCount) > sequenceLength, trainCount > sequenceLength else {
                    throw ConfigError(at: "trainable.plays", "\(text.count) characters are too few for train, validation and test parts longer than sequence_length (\(sequenceLength))")
                }
                loaded = Corpus(vocabulary: vocabulary, train: Array(text[..<trainCount]),
                                validation: Array(text[trainCount ..< trainCount + validationCount]),
                                test: Array(text[(trainCount + validationCount)...]))
            } catch let error as ConfigError {
                error.issues.forEach(issues.add)
            } catch {
                issues.add("trainable.plays_dir", "\(error)")
            }
        }
        guard issues.isEmpty, let loaded else { throw ConfigError(issues.list) }
        corpus = loaded
    }

    /// The optimizer steps that `resource` units stand for.
    public func steps(for resource: Double) -> Int {
        Int((resource * Double(stepsPerUnit)).rounded())
    }

    public func make(trial: Int, config: TrialConfig) throws -> any Trainable {
        try CharacterModelTrainable(trial: trial, config: config, factory: self)
    }
}

extension TrainableCatalog {
    /// Registers `char_lstm`, the character language model on plays.
    public mutating func registerCharacterModel() {
        register("char_lstm") { section, context in try CharacterModelTrainableFactory(section: section, context: context) }
    }
}

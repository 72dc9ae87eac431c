import CohortCluster
import Foundation
import Yams

/// Everything that defines one training run: model, data, optimizer, schedule, seed.
///
/// Read from a YAML or JSON file (`TrainingConfig.load(path:)`), then adjusted by
/// command-line flags. Unknown keys and wrong types are errors that name the file and
/// the key, so a typo never silently falls back to a default.
///
/// ```yaml
/// dataset: fashion-mnist
/// model: { kind: cnn, filters: [16, 32], dense: 128 }
/// optimizer: { kind: sgd, learningRate: 0.05, momentum: 0.9, schedule: cosine }
/// epochs: 3
/// batchSize: 64
/// seed: 1
/// ```
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var dataset = "digits"
    /// Directory of the IDX files (or base of a relative CSV path).
    public var dataDirectory: String?
    public var model = ModelSpec()
    public var optimizer = OptimizerSpec()
    public var epochs = 10
    public var batchSize = 64
    public var seed: UInt64 = 1
    /// OpenBLAS threads per rank.
    public var threads = 1

    public init() {}

    /// Checks ranges; the message names the key.
    public func validate() throws {
        guard epochs > 0 else { throw ConfigError("epochs must be positive, got \(epochs)") }
        guard batchSize > 0 else { throw ConfigError("batchSize must be positive, got \(batchSize)") }
        guard threads > 0 else { throw ConfigError("threads must be positive, got \(threads)") }
        try model.validate()
        try optimizer.validate()
    }

    // MARK: Reading files

    static let keys: Set<String> = ["dataset", "dataDirectory", "model", "optimizer", "epochs", "batchSize", "seed", "threads"]

    /// Reads a YAML (or JSON) config file.
    public static func load(path: String) throws -> TrainingConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError("config \(path): cannot read the file")
        }
        do {
            return try parse(text)
        } catch let e as ConfigError {
            throw ConfigError("config \(path): \(e.message)")
        }
    }

    /// Parses YAML or JSON text.
    public static func parse(_ text: String) throws -> TrainingConfig {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch { throw ConfigError("not valid YAML or JSON (\(error))") }
        guard let map = root as? [String: Any] else { throw ConfigError("the top level must be a mapping of keys to values") }
        let r = ConfigReader(map, path: "")
        try r.rejectUnknown(keys)
        var c = TrainingConfig()
        c.dataset = try r.string("dataset") ?? c.dataset
        c.dataDirectory = try r.string("dataDirectory")
        c.epochs = try r.int("epochs") ?? c.epochs
        c.batchSize = try r.int("batchSize") ?? c.batchSize
        if let s = try r.int("seed") {
            guard s >= 0 else { throw ConfigError("seed must be non-negative, got \(s)") }
            c.seed = UInt64(s)
        }
        c.threads = try r.int("threads") ?? c.threads
        if let m = try r.map("model") { c.model = try ModelSpec(m) }
        if let o = try r.map("optimizer") { c.optimizer = try OptimizerSpec(o) }
        try c.validate()
        return c
    }
}

/// A config that cannot be used; one readable line. Every rank reads the same config,
/// so every rank raises the same error and it is reported once.
public struct ConfigError: UniformError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Typed access to a YAML mapping with errors that name the key path.
struct ConfigReader {
    let map: [String: Any]
    let path: String

    init(_ map: [String: Any], path: String) { self.map = map; self.path = path }

    func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func rejectUnknown(_ allowed: Set<String>) throws {
        if let bad = map.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw ConfigError("unknown key '\(name(bad))' (known: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    func string(_ key: String) throws -> String? {
        guard let v = map[key], !(v is NSNull) else { return nil }
        if let s = v as? String { return s }
        throw ConfigError("\(name(key)) must be a string")
    }

    func int(_ key: String) throws -> Int? {
        guard let v = map[key], !(v is NSNull) else { return nil }
        if let i = v as? Int { return i }
        throw ConfigError("\(name(key)) must be a whole number")
    }

    func float(_ key: String) throws -> Float? {
        guard let v = map[key], !(v is NSNull) else { return nil }
        if let d = v as? Double { return Float(d) }
        if let i = v as? Int { return Float(i) }
        throw ConfigError("\(name(key)) must be a number")
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = map[key], !(v is NSNull) else { return nil }
        if let b = v as? Bool { return b }
        throw ConfigError("\(name(key)) must be true or false")
    }

    func ints(_ key: String) throws -> [Int]? {
        guard let v = map[key], !(v is NSNull) else { return nil }
        if let a = v as? [Any], let ints = a.map({ $0 as? Int }) as? [Int] { return ints }
        throw ConfigError("\(name(key)) must be a list of whole numbers")
    }

    func map(_ key: String) throws -> ConfigReader? {
        guard let v = map[key], !(v is NSNull) else { return nil }
        if let m = v as? [String: Any] { return ConfigReader(m, path: name(key)) }
        throw ConfigError("\(name(key)) must be a mapping")
    }
}

import CohortFiles
import CohortTensor
import Foundation

/// One arm's state after a round, in one file in the safetensors layout (an 8-byte
/// little-endian header length, a JSON header naming each tensor's dtype, shape and byte
/// range plus a `__metadata__` map of strings, then the raw little-endian data), so
/// other tools can read the global model by name.
///
/// Tensors: `global` (the model's flat parameters), `server.first_moment` and
/// `server.second_moment` (the server optimizer's buffers, possibly empty). Metadata:
/// the format name, the arm, rounds completed, the server optimizer's step, and FedEx's
/// distribution as JSON. Nothing else is needed to continue exactly: every random
/// stream is named by (seed, round, client).
public struct RoundCheckpoint: Equatable, Sendable {
    public static let format = "cohort-federated-1"

    public var arm: Int
    public var state: RoundState

    public init(arm: Int, state: RoundState) {
        self.arm = arm
        self.state = state
    }

    // MARK: Writing

    /// The file's bytes; equal states give identical bytes.
    public func serialized() throws -> Data {
        var metadata = [
            "format": Self.format,
            "arm": String(arm),
            "completed_rounds": String(state.completedRounds),
            "server_round": String(state.server.round),
        ]
        if let fedex = state.fedex {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            metadata["fedex"] = String(decoding: try encoder.encode(fedex), as: UTF8.self)
        }
        func flat(_ values: [Float]) -> SafeTensors.Entry {
            values.withUnsafeBufferPointer { SafeTensors.Entry(floats: $0, shape: [values.count]) }
        }
        let file = SafeTensors(entries: [("global", flat(state.global)),
                                         ("server.first_moment", flat(state.server.firstMoment)),
                                         ("server.second_moment", flat(state.server.secondMoment))],
                               metadata: metadata)
        return try file.serialized()
    }

    /// Writes atomically (a temporary file, then a rename), so a run killed mid-write
    /// keeps its previous checkpoint.
    public func write(to url: URL) throws {
        do {
            let data = try serialized()
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try AtomicFile.write(data, to: url)
        } catch {
            throw FederatedError.runDirectory(path: url.path, message: "cannot write the checkpoint (\(error))")
        }
    }

    // MARK: Reading

    /// Reads and checks a checkpoint written by `write(to:)` for the given server
    /// settings; `parameterCount`, when given, is the model's size it must match.
    public static func read(from url: URL, settings: ServerOptimizerSettings, parameterCount: Int? = nil) throws -> RoundCheckpoint {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FederatedError.runDirectory(path: url.path, message: "cannot read the checkpoint")
        }
        return try parse(data, path: url.path, settings: settings, parameterCount: parameterCount)
    }

    static func parse(_ data: Data, path: String, settings: ServerOptimizerSettings, parameterCount: Int? = nil) throws -> RoundCheckpoint {
        func bad(_ why: String) -> FederatedError { .runDirectory(path: path, message: "damaged checkpoint: \(why)") }
        let file: SafeTensors
        do { file = try SafeTensors.parse(data, path: path) } catch let error as SafeTensorsError { throw bad(error.reason) }
        let metadata = file.metadata
        guard metadata["format"] == format else { throw bad("format is \(metadata["format"] ?? "missing"), expected \(format)") }
        guard let arm = metadata["arm"].flatMap(Int.init), let completed = metadata["completed_rounds"].flatMap(Int.init),
              let serverRound = metadata["server_round"].flatMap(Int.init) else {
            throw bad("metadata lacks arm, completed_rounds or server_round")
        }
        func tensor(_ name: String, count: Int? = nil) throws -> [Float] {
            do { return try file.floats(name, count: count, path: path) } catch let error as SafeTensorsError { throw bad(error.reason) }
        }
        let global = try tensor("global", count: parameterCount)
        let server = try ServerOptimizer(settings: settings, round: serverRound,
                                         firstMoment: try tensor("server.first_moment"),
                                         secondMoment: try tensor("server.second_moment"))
        var fedex: FedExDistribution?
        if let json = metadata["fedex"] {
            do { fedex = try JSONDecoder().decode(FedExDistribution.self, from: Data(json.utf8)) } catch {
                throw bad("FedEx state cannot be read (\(error))")
            }
        }
        return RoundCheckpoint(arm: arm, state: RoundState(completedRounds: completed, global: global, server: server, fedex: fedex))
    }
}

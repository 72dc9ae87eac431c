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
        let tensors: [(String, [Float])] = [
            ("global", state.global),
            ("server.first_moment", state.server.firstMoment),
            ("server.second_moment", state.server.secondMoment),
        ]
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
        var header = "{\"__metadata__\":{"
        header += metadata.keys.sorted().map { "\(Self.quoted($0)):\(Self.quoted(metadata[$0]!))" }.joined(separator: ",")
        header += "}"
        var offset = 0
        for (name, values) in tensors {
            let bytes = values.count * 4
            header += ",\(Self.quoted(name)):{\"dtype\":\"F32\",\"shape\":[\(values.count)],\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        header += "}"
        while (header.utf8.count + 8) % 8 != 0 { header += " " }
        var data = Data()
        var length = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        for (_, values) in tensors {
            #if _endian(little)
            values.withUnsafeBytes { data.append(contentsOf: $0) }
            #else
            for v in values {
                var bits = v.bitPattern.littleEndian
                withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
            }
            #endif
        }
        return data
    }

    /// Writes atomically (a temporary file, then a rename), so a run killed mid-write
    /// keeps its previous checkpoint.
    public func write(to url: URL) throws {
        let data = try serialized()
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw FederatedError.runDirectory(path: url.path, message: "cannot write the checkpoint (\(error.localizedDescription))")
        }
    }

    // MARK: Reading

    /// Reads and checks a checkpoint written by `write(to:)` for a model of
    /// `parameterCount` values and the given server settings.
    public static func read(from url: URL, settings: ServerOptimizerSettings) throws -> RoundCheckpoint {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FederatedError.runDirectory(path: url.path, message: "cannot read the checkpoint")
        }
        return try parse(data, path: url.path, settings: settings)
    }

    static func parse(_ data: Data, path: String, settings: ServerOptimizerSettings) throws -> RoundCheckpoint {
        func bad(_ why: String) -> FederatedError { .runDirectory(path: path, message: "damaged checkpoint: \(why)") }
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw bad("shorter than its 8-byte header length") }
        let headerLength = bytes[0 ..< 8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard headerLength > 0, 8 + headerLength <= bytes.count else { throw bad("header of \(headerLength) bytes does not fit the file") }
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8 ..< 8 + headerLength])) as? [String: Any],
              let metadata = header["__metadata__"] as? [String: String] else {
            throw bad("the header is not a safetensors JSON header")
        }
        guard metadata["format"] == format else { throw bad("format is \(metadata["format"] ?? "missing"), expected \(format)") }
        guard let arm = metadata["arm"].flatMap(Int.init), let completed = metadata["completed_rounds"].flatMap(Int.init),
              let serverRound = metadata["server_round"].flatMap(Int.init) else {
            throw bad("metadata lacks arm, completed_rounds or server_round")
        }
        let dataStart = 8 + headerLength
        func tensor(_ name: String) throws -> [Float] {
            guard let entry = header[name] as? [String: Any], entry["dtype"] as? String == "F32",
                  let shape = entry["shape"] as? [Int], shape.count == 1,
                  let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw bad("tensor \(name) is missing or not a flat F32 tensor")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end - begin == shape[0] * 4, dataStart + end <= bytes.count else {
                throw bad("tensor \(name) does not fit the file (truncated?)")
            }
            var values = [Float](repeating: 0, count: shape[0])
            values.withUnsafeMutableBytes { target in
                bytes.withUnsafeBytes { source in
                    target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[(dataStart + begin) ..< (dataStart + end)]))
                }
            }
            #if !_endian(little)
            for i in values.indices { values[i] = Float(bitPattern: UInt32(littleEndian: values[i].bitPattern)) }
            #endif
            return values
        }
        let global = try tensor("global")
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

    private static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

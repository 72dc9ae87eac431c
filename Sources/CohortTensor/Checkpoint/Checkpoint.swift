import Foundation

/// A training state in one safetensors file: model parameters ("param.<name>"),
/// non-trainable state ("state.<name>"), optimizer buffers ("optim.<slot>", flat),
/// random streams ("rng.<name>", four U64 words) and the step, plus a CRC-32 of the
/// data in the metadata. Other tools read the tensors by name; Cohort additionally
/// checks every name, shape and size against the model it restores into.
public struct Checkpoint {
    public static let format = "cohort-checkpoint-1"

    public var file: SafeTensors
    public var path: String

    public init(file: SafeTensors, path: String = "<memory>") {
        self.file = file
        self.path = path
    }

    /// Captures `model` (and optionally an optimizer, extra named random streams, the
    /// step and free-form metadata).
    public init(model: Model, optimizer: Optimizer? = nil, randomStreams: [String: RandomStream] = [:],
                step: Int = 0, metadata: [String: String] = [:]) {
        var entries: [(name: String, entry: SafeTensors.Entry)] = []
        for e in model.parameters.entries {
            entries.append(("param." + e.name, .init(floats: UnsafeBufferPointer(model.parameters[e.name]!), shape: e.shape.dims)))
        }
        for e in model.state.entries {
            entries.append(("state." + e.name, .init(floats: UnsafeBufferPointer(model.state[e.name]!), shape: e.shape.dims)))
        }
        var meta = metadata
        meta["format"] = Checkpoint.format
        meta["step"] = String(step)
        if let optimizer {
            meta["optimizer"] = optimizer.kind
            meta["optimizer.steps"] = String(optimizer.stepCount)
            for (name, buffer) in optimizer.state {
                entries.append(("optim." + name, .init(floats: UnsafeBufferPointer(buffer.flat), shape: [buffer.count])))
            }
        }
        for (name, source) in model.randomSources {
            entries.append(("rng.model." + name, Checkpoint.rngEntry(source.stream)))
        }
        for (name, stream) in randomStreams.sorted(by: { $0.key < $1.key }) {
            entries.append(("rng." + name, Checkpoint.rngEntry(stream)))
        }
        file = SafeTensors(entries: entries, metadata: meta)
        path = "<memory>"
    }

    static func rngEntry(_ s: RandomStream) -> SafeTensors.Entry {
        .init(uint64s: [s.state.0, s.state.1, s.state.2, s.state.3], shape: [4])
    }

    // MARK: Files

    public func write(to url: URL) throws { try file.write(to: url) }

    /// Reads and validates a checkpoint file (layout and checksum, then format).
    public static func read(from url: URL) throws -> Checkpoint {
        let file = try SafeTensors.read(from: url)
        let cp = Checkpoint(file: file, path: url.path)
        guard file.metadata["format"] == Checkpoint.format else {
            throw cp.error("not a Cohort checkpoint (metadata format is \(file.metadata["format"].map { "'\($0)'" } ?? "missing"))")
        }
        return cp
    }

    func error(_ reason: String) -> SafeTensorsError { SafeTensorsError(path: path, reason: reason) }

    // MARK: Contents

    public var step: Int { Int(file.metadata["step"] ?? "") ?? 0 }
    public var metadata: [String: String] { file.metadata }

    /// A saved random stream by the name it was given.
    public func randomStream(_ name: String) throws -> RandomStream {
        guard let e = file["rng." + name] else { throw error("no random stream named '\(name)'") }
        guard e.dtype == .u64, e.shape == [4] else { throw error("random stream '\(name)' must be U64 [4], is \(e.dtype.rawValue) \(e.shape)") }
        let w = e.uint64s()
        return RandomStream(state: (w[0], w[1], w[2], w[3]))
    }

    // MARK: Restoring

    /// Copies parameters, state and layer random streams into `model` after checking
    /// that every name is present with the same shape and that nothing is left over;
    /// restores the optimizer's buffers and step when one is given. Nothing is changed
    /// unless everything matches.
    public func restore(into model: Model, optimizer: Optimizer? = nil) throws {
        var expected: [(key: String, shape: [Int], target: UnsafeMutableBufferPointer<Float>)] = []
        for e in model.parameters.entries { expected.append(("param." + e.name, e.shape.dims, model.parameters[e.name]!)) }
        for e in model.state.entries { expected.append(("state." + e.name, e.shape.dims, model.state[e.name]!)) }
        if let optimizer {
            guard let kind = file.metadata["optimizer"] else { throw error("holds no optimizer state, but a \(optimizer.kind) optimizer was given") }
            guard kind == optimizer.kind else { throw error("optimizer is \(kind), but a \(optimizer.kind) optimizer was given") }
            for (name, buffer) in optimizer.state { expected.append(("optim." + name, [buffer.count], buffer.flat)) }
        }
        let saved = Set(file.entries.map(\.name).filter { $0.hasPrefix("param.") || $0.hasPrefix("state.") })
        let wanted = Set(expected.map(\.key).filter { $0.hasPrefix("param.") || $0.hasPrefix("state.") })
        let missing = wanted.subtracting(saved).sorted(), extra = saved.subtracting(wanted).sorted()
        guard missing.isEmpty else { throw error("missing tensors for this model: \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", ..." : "")") }
        guard extra.isEmpty else { throw error("tensors this model does not have: \(extra.prefix(5).joined(separator: ", "))\(extra.count > 5 ? ", ..." : "")") }
        for x in expected {
            guard let e = file[x.key] else { throw error("missing tensor \(x.key)") }
            guard e.dtype == .f32 else { throw error("tensor \(x.key) is \(e.dtype.rawValue), expected F32") }
            guard e.shape == x.shape else { throw error("tensor \(x.key) has shape \(e.shape), the model expects \(x.shape)") }
        }
        var streams: [(RandomSource, RandomStream)] = []
        for (name, source) in model.randomSources { streams.append((source, try randomStream("model." + name))) }
        var optimizerSteps = 0
        if optimizer != nil {
            guard let s = file.metadata["optimizer.steps"].flatMap(Int.init) else { throw error("optimizer step count missing") }
            optimizerSteps = s
        }
        // Everything checked: now copy.
        for x in expected { file[x.key]!.copyFloats(into: x.target) }
        for (source, stream) in streams { source.stream = stream }
        optimizer?.stepCount = optimizerSteps
    }
}

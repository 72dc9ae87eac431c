import XCTest
@testable import CohortTensor

/// Safetensors round trips and the errors for damaged or mismatched files.
final class CheckpointTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func trainedModel(seed: UInt64) throws -> (Model, Adam) {
        let model = Model(try SmallCNN.make(channels: 1, height: 8, width: 8, classes: 3, filters: (2, 3), hidden: 4, dropout: 0.2), seed: seed)
        let adam = try Adam(parameterCount: model.parameterCount, learningRate: .constant(0.01))
        let t = Tape()
        for _ in 0..<2 {
            t.reset(); model.zeroGradients()
            t.backward(t.crossEntropy(model(t.tensor(testValues(2 * 64, seed: 4), shape: [2, 1, 8, 8]), t), labels: [0, 2]))
            adam.step(model)
        }
        return (model, adam)
    }

    func testRoundTripRestoresEverything() throws {
        let (model, adam) = try trainedModel(seed: 1)
        let url = directory.appendingPathComponent("a.safetensors")
        let rng = RandomStream(seed: 77, stream: 3)
        try Checkpoint(model: model, optimizer: adam, randomStreams: ["data": rng], step: 2, metadata: ["note": "x"]).write(to: url)

        let (fresh, freshAdam) = try trainedModel(seed: 2)
        XCTAssertNotEqual(fresh.parameters.toArray(), model.parameters.toArray())
        let loaded = try Checkpoint.read(from: url)
        try loaded.restore(into: fresh, optimizer: freshAdam)
        XCTAssertEqual(fresh.parameters.toArray().map(\.bitPattern), model.parameters.toArray().map(\.bitPattern))
        XCTAssertEqual(fresh.state.toArray(), model.state.toArray())
        XCTAssertEqual(freshAdam.m.flat.map { $0 }, adam.m.flat.map { $0 })
        XCTAssertEqual(freshAdam.v.flat.map { $0 }, adam.v.flat.map { $0 })
        XCTAssertEqual(freshAdam.stepCount, 2)
        XCTAssertEqual(fresh.randomSources[0].source.stream, model.randomSources[0].source.stream)
        XCTAssertEqual(try loaded.randomStream("data"), rng)
        XCTAssertEqual(loaded.step, 2)
        XCTAssertEqual(loaded.metadata["note"], "x")
    }

    func testFileLayoutIsStandardSafetensors() throws {
        let model = Model(Sequential(Linear(2, 3)), seed: 1)
        let data = try Checkpoint(model: model).file.serialized()
        let headerLength = data.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        XCTAssertEqual((8 + headerLength) % 8, 0, "data section is 8-byte aligned")
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        let weight = header["param.0.weight"] as! [String: Any]
        XCTAssertEqual(weight["dtype"] as? String, "F32")
        XCTAssertEqual(weight["shape"] as? [Int], [3, 2])
        let bias = header["param.0.bias"] as! [String: Any]
        XCTAssertEqual(bias["data_offsets"] as? [Int], [24, 36])
        XCTAssertEqual((header["__metadata__"] as? [String: String])?["format"], Checkpoint.format)
        // Little-endian floats at the recorded offsets.
        let first = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8 + headerLength, as: Float.self) }
        XCTAssertEqual(first, model.parameters.flat[0])
        XCTAssertEqual(data.count, 8 + headerLength + 36)
        // Writing twice gives the same bytes.
        XCTAssertEqual(try Checkpoint(model: model).file.serialized(), data)
    }

    func testReadsAFileWrittenByHand() throws {
        // A minimal file as another tool would write it: no padding, no metadata.
        let json = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        var data = Data()
        var n = UInt64(json.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
        data.append(json.data(using: .utf8)!)
        var values: [Float] = [1.5, -2]
        values.withUnsafeMutableBytes { data.append(contentsOf: $0) }
        let file = try SafeTensors.parse(data)
        XCTAssertEqual(file["w"]?.floats(), [1.5, -2])
    }

    func testTruncatedFileIsRefusedNamingTheFile() throws {
        let (model, _) = try trainedModel(seed: 1)
        let url = directory.appendingPathComponent("t.safetensors")
        try Checkpoint(model: model).write(to: url)
        let full = try Data(contentsOf: url)
        for cut in [4, 20, full.count - 3] {
            try full.prefix(cut).write(to: url)
            XCTAssertThrowsError(try Checkpoint.read(from: url)) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(url.path), text)
                XCTAssertTrue(text.contains("truncated"), text)
            }
        }
    }

    func testCorruptFilesAreRefused() throws {
        let (model, _) = try trainedModel(seed: 1)
        let url = directory.appendingPathComponent("c.safetensors")
        try Checkpoint(model: model).write(to: url)
        var bytes = try Data(contentsOf: url)
        // A flipped bit in the tensor data: caught by the checksum.
        bytes[bytes.count - 5] ^= 0x10
        try bytes.write(to: url)
        XCTAssertThrowsError(try Checkpoint.read(from: url)) { XCTAssertTrue("\($0)".contains("checksum"), "\($0)") }
        // A damaged header.
        bytes = try Checkpoint(model: model).file.serialized()
        bytes[9] = UInt8(ascii: "#")
        try bytes.write(to: url)
        XCTAssertThrowsError(try Checkpoint.read(from: url)) { XCTAssertTrue("\($0)".contains("not a JSON object"), "\($0)") }
        // Extra bytes after the data.
        bytes = try Checkpoint(model: model).file.serialized() + Data([1, 2, 3, 4])
        try bytes.write(to: url)
        XCTAssertThrowsError(try Checkpoint.read(from: url)) { XCTAssertTrue("\($0)".contains("after the last tensor"), "\($0)") }
        // Missing file.
        XCTAssertThrowsError(try Checkpoint.read(from: directory.appendingPathComponent("none.safetensors"))) {
            XCTAssertTrue("\($0)".contains("none.safetensors: no such file"), "\($0)")
        }
    }

    func testMismatchedModelsAreRefusedWithoutChangingAnything() throws {
        let url = directory.appendingPathComponent("m.safetensors")
        try Checkpoint(model: Model(try MLP.make(sizes: [4, 8, 2]), seed: 1)).write(to: url)
        let cp = try Checkpoint.read(from: url)
        let wider = Model(try MLP.make(sizes: [4, 9, 2]), seed: 2)
        let before = wider.parameters.toArray()
        XCTAssertThrowsError(try cp.restore(into: wider)) { error in
            XCTAssertTrue("\(error)".contains("param.0.weight has shape [8, 4], the model expects [9, 4]"), "\(error)")
            XCTAssertTrue("\(error)".contains(url.path))
        }
        XCTAssertEqual(wider.parameters.toArray(), before)
        let deeper = Model(try MLP.make(sizes: [4, 8, 8, 2]), seed: 2)
        XCTAssertThrowsError(try cp.restore(into: deeper)) { XCTAssertTrue("\($0)".contains("missing tensors"), "\($0)") }
        let sgd = try SGD(parameterCount: 50, learningRate: .constant(0.1))
        XCTAssertThrowsError(try cp.restore(into: Model(try MLP.make(sizes: [4, 8, 2]), seed: 1), optimizer: sgd)) {
            XCTAssertTrue("\($0)".contains("holds no optimizer state"), "\($0)")
        }
    }
}

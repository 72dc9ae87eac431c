import Foundation
import XCTest
@testable import CohortFederated

final class RoundCheckpointTests: XCTestCase {
    private func sampleState() throws -> RoundState {
        var server = try ServerOptimizer(settings: .init(kind: .yogi, learningRate: 0.1), parameterCount: 3)
        var global: [Float] = [0.5, -1.25, 3]
        server.step(global: &global, average: [0.25, -1, 2.5])
        var fedex = try FedExDistribution(sizes: [3, 2], settings: .init(schedule: .inverseSqrt))
        try fedex.update([FedExReport(indices: [1, 0], loss: 0.4, weight: 2), FedExReport(indices: [2, 1], loss: 0.9, weight: 1)])
        return RoundState(completedRounds: 7, global: global, server: server, fedex: fedex)
    }

    func testRoundTripKeepsEveryBit() throws {
        let dir = try makeTemporaryDirectory(self)
        let url = URL(fileURLWithPath: dir + "/arm-0003.safetensors")
        let checkpoint = RoundCheckpoint(arm: 3, state: try sampleState())
        try checkpoint.write(to: url)
        let back = try RoundCheckpoint.read(from: url, settings: checkpoint.state.server.settings)
        XCTAssertEqual(back, checkpoint)
        XCTAssertEqual(try checkpoint.serialized(), try back.serialized(), "equal states, identical bytes")
    }

    func testTheFileIsSafetensorsThatOtherToolsCanRead() throws {
        let data = try RoundCheckpoint(arm: 0, state: try sampleState()).serialized()
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual((8 + headerLength) % 8, 0, "data aligned to 8 bytes")
        let header = try XCTUnwrap(try JSONSerialization.jsonObject(with: data.subdata(in: 8 ..< 8 + headerLength)) as? [String: Any])
        let global = try XCTUnwrap(header["global"] as? [String: Any])
        XCTAssertEqual(global["dtype"] as? String, "F32")
        XCTAssertEqual(global["shape"] as? [Int], [3])
        XCTAssertEqual(global["data_offsets"] as? [Int], [0, 12])
        XCTAssertEqual((header["__metadata__"] as? [String: String])?["completed_rounds"], "7")
        XCTAssertEqual(data.count, 8 + headerLength + 4 * 9, "three tensors of three floats")
    }

    func testDamagedFilesAreRefusedWithOneLine() throws {
        let good = try RoundCheckpoint(arm: 0, state: try sampleState()).serialized()
        func message(_ bytes: Data) -> String {
            federatedErrorMessage { try RoundCheckpoint.parse(bytes, path: "x.safetensors", settings: .init(kind: .yogi, learningRate: 0.1)) }
        }
        XCTAssertEqual(message(good.prefix(good.count - 4)),
                       "run directory x.safetensors: damaged checkpoint: truncated: tensor server.second_moment ends at byte 36 of the data section, which has 32 bytes")
        XCTAssertTrue(message(good.prefix(5)).contains("damaged checkpoint: truncated: 5 bytes, too short for the 8-byte header length"))
        XCTAssertTrue(message(Data(repeating: 0xFF, count: 64)).contains("damaged checkpoint: truncated or corrupt: header length"))
        var flipped = good
        flipped[flipped.count - 1] ^= 0x01
        XCTAssertTrue(message(flipped).contains("damaged checkpoint: corrupt: tensor data checksum"), message(flipped))
        XCTAssertTrue(federatedErrorMessage {
            try RoundCheckpoint.parse(good, path: "x.safetensors", settings: .init(kind: .yogi, learningRate: 0.1), parameterCount: 4)
        }.contains("damaged checkpoint: tensor 'global' has 3 values, expected 4"))
        var foreign = good
        let range = try XCTUnwrap(foreign.range(of: Data("cohort-federated-1".utf8)))
        foreign.replaceSubrange(range, with: Data("something-else-1!!".utf8))
        XCTAssertTrue(message(foreign).contains("format is something-else-1!!, expected cohort-federated-1"))
    }
}

import XCTest
import CohortFiles
@testable import CohortXD

/// The comparison's config: defaults per task, and every problem reported with its key.
final class XDConfigTests: XCTestCase {
    func testDefaultsFollowTheTask() throws {
        let burgers = try XDConfig.parse("task: {type: burgers}\n")
        XCTAssertEqual(burgers.models, [.backbone, .xd, .fno])
        XCTAssertEqual(burgers.metric, "relative_l2")
        XCTAssertEqual(burgers.burgers.grid, 1024)
        XCTAssertEqual(burgers.trainCount, 1000)
        let images = try XDConfig.parse("task: {type: permuted_images}\nmodels: [xd, backbone]\n")
        XCTAssertEqual(images.models, [.xd, .backbone])
        XCTAssertEqual(images.metric, "accuracy")
        XCTAssertEqual(images.side, 32)
    }

    func testEveryProblemIsReportedWithItsKey() {
        let text = """
        task: {type: burgers, resolution: 48, grid: 64}
        models: [backbone, backbone_unpermuted]
        network: {kernel: 16}
        training: {epochs: 0, batch_sise: 4}
        """
        XCTAssertThrowsError(try XDConfig.parse(text)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("burgers.resolution must be a power of two dividing burgers.grid (64), got 48"), message)
            XCTAssertTrue(message.contains("models: \"backbone_unpermuted\" is not a model of this task"), message)
            XCTAssertTrue(message.contains("network.kernel: must be odd"), message)
            XCTAssertTrue(message.contains("training.epochs"), message)
            XCTAssertTrue(message.contains("training.batch_sise: unknown key; did you mean batch_size?"), message)
        }
        XCTAssertThrowsError(try XDConfig.parse("task: {type: darcy}\n")) { XCTAssertTrue("\($0)".contains("task.type"), "\($0)") }
        XCTAssertThrowsError(try XDConfig.parse("seed: 1\n")) { XCTAssertTrue("\($0)".contains("task: is missing"), "\($0)") }
        XCTAssertThrowsError(try XDConfig.parse("task: {type: burgers}\ntraining: {batch_size: 2}\n").validate(ranks: 4)) {
            XCTAssertEqual("\($0)", "training.batch_size (2) is smaller than the number of ranks (4): every rank needs at least one sample of each batch")
        }
    }
}

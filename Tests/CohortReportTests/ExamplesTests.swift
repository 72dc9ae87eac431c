import CohortFederated
import CohortFiles
import CohortMeta
import CohortNAS
import CohortORCA
import CohortTrain
import CohortTune
import CohortXD
import XCTest
@testable import CohortReport

/// Every config in examples/ reads in the one dialect, through the reader of the
/// command it is written for (a tuning run's trainable is checked without loading its
/// data set).
final class ExamplesTests: XCTestCase {
    func testEveryExampleReadsInTheOneDialect() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples").standardizedFileURL
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 10, "examples found in \(folder.path)")
        var kinds: [String: Int] = [:]
        for name in names {
            let url = folder.appendingPathComponent(name)
            let text = try ConfigDocument.text(contentsOf: url)
            let document = try ConfigDocument.parse(text, source: name)
            do {
                if document["scheduler"] != nil {
                    _ = try TuneConfig.parse(text, source: name, catalog: try TuneReport.inertCatalog(for: text))
                    kinds["tune", default: 0] += 1
                } else if document["rounds"] != nil {
                    _ = try FedConfig.parse(text, source: name)
                    kinds["fed", default: 0] += 1
                } else if document["learner"] != nil {
                    _ = try MetaConfig.parse(text, source: name)
                    kinds["meta", default: 0] += 1
                } else if document["alignment"] != nil {
                    _ = try ORCAConfig.parse(text, source: name)
                    kinds["orca", default: 0] += 1
                } else if document["task"] != nil {
                    _ = try XDConfig.parse(text, source: name)
                    kinds["xd", default: 0] += 1
                } else if document["strategy"] != nil {
                    _ = try NASConfig.parse(text, source: name)
                    kinds["nas", default: 0] += 1
                } else {
                    _ = try TrainingConfig.parse(text)
                    kinds["train", default: 0] += 1
                }
            } catch {
                XCTFail("\(name): \(error)")
            }
        }
        XCTAssertEqual(Set(kinds.keys), ["train", "tune", "fed", "nas", "xd", "meta", "orca"], "\(kinds)")
    }
}

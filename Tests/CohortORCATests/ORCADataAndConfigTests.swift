import XCTest
@testable import CohortORCA

/// scikit-learn's CSV layout, the seeded stratified split, and the config's messages.
final class ORCADataAndConfigTests: XCTestCase {
    let csv = "6,2,a,b\n1,2,0\n3,4,0\n5,6,0\n7,8,1\n9,10,1\n11,12,1\n"

    func testReadsSplitsAndStandardizes() throws {
        let table = try TabularData.parse(csv, name: "t", path: "t.csv")
        XCTAssertEqual(table.count, 6)
        XCTAssertEqual(table.labels, [0, 0, 0, 1, 1, 1])
        let (train, test) = table.split(testFraction: 0.34, seed: 5)
        XCTAssertEqual(train.count, 4)
        XCTAssertEqual(test.labels, [0, 1], "one of each class held out")
        XCTAssertEqual(Set(train.values + test.values), Set(table.values))
        XCTAssertEqual(table.split(testFraction: 0.34, seed: 5).train, train, "the split depends on the seed alone")
        let z = train.standardized(by: train)
        for f in 0..<2 {
            let column = (0..<4).map { Double(z.values[$0 * 2 + f]) }
            XCTAssertEqual(column.reduce(0, +) / 4, 0, accuracy: 1e-6)
            XCTAssertEqual(column.map { $0 * $0 }.reduce(0, +) / 4, 1, accuracy: 1e-5)
        }
    }

    func testBadTablesAreNamed() {
        for (text, message) in [("6,2,a\n", "the first line must be"), ("2,2,a,b\n1,2,0\n", "the header says 2 samples, the file has 1 rows"),
                                ("1,2,a,b\n1,2,5\n", "row 2: the class '5' is not an index below 2"), ("1,2,a,b\n1,0\n", "row 2 has 2 values, expected 3")] {
            XCTAssertThrowsError(try TabularData.parse(text, name: "t", path: "t.csv")) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
    }

    func testConfigDefaultsAndProblems() throws {
        let c = try ORCAConfig.parse("task: {type: burgers}\nalignment: {epochs: 2}\n")
        XCTAssertEqual(c.variants, [.scratch, .finetune, .orca])
        XCTAssertEqual(c.metric, "relative_l2")
        XCTAssertEqual(c.alignmentEpochs, 2)
        XCTAssertThrowsError(try ORCAConfig.parse("task: {type: burgers, patch: 7}\nvariants: [orca, bogus]\ntraining: {batch_size: 1, extra: 2}\n")) { e in
            let text = "\(e)"
            for part in ["task.patch: must divide task.resolution (256), got 7", "variants: ", "bogus", "training.batch_size", "training.extra"] {
                XCTAssertTrue(text.contains(part), "\(part) not in \(text)")
            }
        }
        XCTAssertThrowsError(try ORCAConfig.parse("task: {type: tabular, dataset: iris}\n")) { XCTAssertTrue("\($0)".contains("task.dataset"), "\($0)") }
        XCTAssertThrowsError(try c.validate(ranks: 32)) { XCTAssertTrue("\($0)".contains("smaller than the number of ranks (32)")) }
    }
}

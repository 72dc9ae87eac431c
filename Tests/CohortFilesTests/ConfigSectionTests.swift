import XCTest
@testable import CohortFiles

final class ConfigSectionTests: XCTestCase {
    private func section(_ yaml: String) throws -> (ConfigSection, ConfigIssues) {
        let issues = ConfigIssues()
        let document = try ConfigDocument.parse(yaml)
        return (try XCTUnwrap(ConfigSection(document, path: "", issues: issues, required: true)), issues)
    }

    func testCamelCaseKeyIsRejectedWithTheSnakeCaseSuggestion() throws {
        let (config, issues) = try section("optimizer:\n  learningRate: 0.1\n")
        let optimizer = try XCTUnwrap(config.section("optimizer"))
        _ = optimizer.double("learning_rate", default: 0.05)
        _ = optimizer.double("momentum", default: 0.9)
        optimizer.finish()
        config.finish()
        XCTAssertEqual(issues.list.map(\.description), ["optimizer.learningRate: unknown key; did you mean learning_rate?"])
    }

    func testFormerNamesAndTyposAreSuggested() {
        let known = ["learning_rate", "type", "data_dir", "batch_size", "epochs"]
        XCTAssertEqual(ConfigSection.nearestKey(to: "lr", in: known), "learning_rate")
        XCTAssertEqual(ConfigSection.nearestKey(to: "kind", in: known), "type")
        XCTAssertEqual(ConfigSection.nearestKey(to: "dataDirectory", in: known), "data_dir")
        XCTAssertEqual(ConfigSection.nearestKey(to: "epocs", in: known), "epochs")
        XCTAssertEqual(ConfigSection.nearestKey(to: "batch-size", in: known), "batch_size")
        XCTAssertNil(ConfigSection.nearestKey(to: "colour", in: known))
        XCTAssertEqual(ConfigSection.unknownKeyMessage("colour", known: ["b", "a"]), "unknown key (keys here: a, b)")
    }

    func testEveryProblemIsCollectedWithItsPlace() throws {
        let (config, issues) = try section("epochs: -3\nseed: 1.5\nname: [1]\nrate: .nan\nratio: 2\n")
        XCTAssertEqual(config.int("epochs", default: 10, min: 1), 10)
        XCTAssertEqual(config.int("seed", default: 0), 0)
        XCTAssertEqual(config.string("name", default: "x"), "x")
        XCTAssertEqual(config.double("rate", default: 0.5), 0.5)
        XCTAssertNil(config.double("ratio", max: 1))
        config.finish()
        XCTAssertEqual(issues.list.map(\.path), ["epochs", "seed", "name", "rate", "ratio"])
        XCTAssertEqual(issues.list[0].message, "must be at least 1, got -3")
        XCTAssertThrowsError(try issues.throwIfAny()) { error in
            XCTAssertEqual((error as? ConfigError)?.issues.count, 5)
        }
    }

    func testNullMeansNotGivenAndRequiredSectionsAreReported() throws {
        let (config, issues) = try section("epochs: null\nmodel: 3\n")
        XCTAssertEqual(config.int("epochs", default: 4), 4)
        XCTAssertNil(config.section("model"))
        XCTAssertNil(config.section("data", required: true, hint: "the data set"))
        XCTAssertEqual(issues.list.map(\.description), ["model: must be a mapping, got an integer", "data: is missing (the data set)"])
    }

    func testChoiceAndListsValidateEachItem() throws {
        enum Shape: String, CaseIterable { case round, square }
        let (config, issues) = try section("shape: oval\nsizes: [1, 2, x]\nwidths: [3, 0]\n")
        XCTAssertEqual(config.choice("shape", Shape.round), .round)
        XCTAssertNil(config.numbers("sizes"))
        XCTAssertNil(config.integers("widths", min: 1))
        XCTAssertEqual(issues.list.map(\.description), [
            "shape: unknown value 'oval' (expected one of round, square)",
            "sizes[2]: must be a number, got a string",
            "widths[1]: must be at least 1, got 0",
        ])
    }
}

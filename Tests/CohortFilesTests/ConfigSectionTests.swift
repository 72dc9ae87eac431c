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

    func testRunNamesThatCannotNameADirectoryAreRefused() throws {
        for bad in ["\"\"", "a/b", "\".\"", "\"..\""] {
            let issues = ConfigIssues()
            let top = try ConfigSection.top(of: "name: \(bad)\n", source: "c.yaml", issues: issues)
            _ = top.runName(default: "x")
            XCTAssertEqual(issues.list.map(\.description), ["name: must be a non-empty name without '/'"], bad)
        }
        let issues = ConfigIssues()
        XCTAssertEqual(try ConfigSection.top(of: "seed: 1\n", source: "c.yaml", issues: issues).runName(default: "file"), "file")
        XCTAssertThrowsError(try ConfigSection.top(of: "[1, 2]\n", source: "c.yaml", issues: ConfigIssues()))
    }

    func testOverridesLandAtTheirPathsAndASeedBeyondIntIsRefused() throws {
        let text = try ConfigDocument.overriding("seed: 1\ntraining: {steps: 5}\n",
                                                 try ConfigDocument.seedOverride(7) + [(["training", "steps"], .int(9)), (["data", "dir"], .string("d"))])
        let issues = ConfigIssues()
        let top = try ConfigSection.top(of: text, source: "c", issues: issues)
        XCTAssertEqual(top.int("seed", default: 0), 7)
        XCTAssertEqual(top.section("training")?.int("steps", default: 0), 9)
        XCTAssertEqual(top.section("data")?.string("dir", default: ""), "d")
        XCTAssertTrue(issues.list.isEmpty)
        XCTAssertEqual(try ConfigDocument.overriding("a: 1\n", []), "a: 1\n")
        XCTAssertTrue(try ConfigDocument.seedOverride(nil).isEmpty)
        XCTAssertThrowsError(try ConfigDocument.seedOverride(UInt64(Int.max) + 1)) { error in
            XCTAssertEqual("\(error)", "--seed: must be at most \(Int.max), got \(UInt64(Int.max) + 1)")
        }
    }
}

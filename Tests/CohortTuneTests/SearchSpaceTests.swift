import CohortFiles
import XCTest
@testable import CohortTune

final class SearchSpaceTests: XCTestCase {
    let yaml = """
    name: demo
    seed: 7
    metric: loss
    mode: min
    scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 27, max_trials: 50}
    trainable: {type: surrogate, seconds_per_unit: 0}
    space:
      lr: {type: loguniform, low: 1.0e-4, high: 1.0}
      momentum: {type: uniform, low: 0.0, high: 0.99}
      width: {type: int, low: 16, high: 512, log: true}
      depth: {type: int, low: 1, high: 4}
      act: {type: choice, values: [relu, tanh]}
      opt: {type: grid, values: [sgd, adam]}
      epochs_per_unit: 1
    """

    func testLoadsEveryParameterTypeInFileOrder() throws {
        let c = try TuneConfig.parse(yaml)
        XCTAssertEqual(c.name, "demo")
        XCTAssertEqual(c.seed, 7)
        XCTAssertEqual(c.space.parameters.map(\.name), ["lr", "momentum", "width", "depth", "act", "opt", "epochs_per_unit"])
        XCTAssertEqual(c.space["lr"]?.domain, .logUniform(low: 1e-4, high: 1))
        XCTAssertEqual(c.space["width"]?.domain, .integer(low: 16, high: 512, log: true))
        XCTAssertEqual(c.space["act"]?.domain, .choice([.string("relu"), .string("tanh")]))
        XCTAssertEqual(c.space["epochs_per_unit"]?.domain, .constant(.int(1)))
        XCTAssertEqual(c.scheduler, SchedulerSpec(kind: .asha, eta: 3, minResource: 1, maxResource: 27, budget: Budget(maxTrials: 50)))
    }

    func testJSONConfigsReadTheSame() throws {
        let json = """
        {"name": "demo", "seed": 7, "metric": "loss", "mode": "min",
         "scheduler": {"type": "asha", "eta": 3, "min_resource": 1, "max_resource": 27, "max_trials": 50},
         "trainable": {"type": "surrogate", "seconds_per_unit": 0},
         "space": {"lr": {"type": "loguniform", "low": 0.0001, "high": 1.0},
                   "momentum": {"type": "uniform", "low": 0.0, "high": 0.99},
                   "width": {"type": "int", "low": 16, "high": 512, "log": true},
                   "depth": {"type": "int", "low": 1, "high": 4},
                   "act": {"type": "choice", "values": ["relu", "tanh"]},
                   "opt": {"type": "grid", "values": ["sgd", "adam"]},
                   "epochs_per_unit": 1}}
        """
        let a = try TuneConfig.parse(yaml), b = try TuneConfig.parse(json)
        XCTAssertEqual(a.space, b.space)
        XCTAssertEqual(a.scheduler, b.scheduler)
    }

    func testSamplesStayInRangeAndAreAPureFunctionOfSeedAndTrial() throws {
        let space = try TuneConfig.parse(yaml).space
        for t in 0..<500 {
            let c = space.sample(trial: t, seed: 7)
            let lr = try XCTUnwrap(c["lr"]?.doubleValue)
            XCTAssert(lr >= 1e-4 && lr <= 1)
            let m = try XCTUnwrap(c["momentum"]?.doubleValue)
            XCTAssert(m >= 0 && m <= 0.99)
            guard case let .int(w)? = c["width"], case let .int(d)? = c["depth"] else { return XCTFail("ints expected") }
            XCTAssert((16...512).contains(w) && (1...4).contains(d))
            XCTAssert(["relu", "tanh"].contains(c["act"]?.stringValue ?? ""))
            XCTAssertEqual(c["opt"]?.stringValue, t % 2 == 0 ? "sgd" : "adam")
            XCTAssertEqual(c, space.sample(trial: t, seed: 7))
        }
        XCTAssertNotEqual(space.sample(trial: 3, seed: 7), space.sample(trial: 3, seed: 8))
        XCTAssertNotEqual(space.sample(trial: 3, seed: 7), space.sample(trial: 4, seed: 7))
    }

    func testLogSamplingIsUniformInLogSpace() {
        let space = SearchSpace([Parameter(name: "lr", domain: .logUniform(low: 1e-4, high: 1))])
        let n = 4000
        let belowHundredth = (0..<n).filter { space.sample(trial: $0, seed: 1)["lr"]!.doubleValue! < 1e-2 }.count
        // log10 uniform over [-4, 0]: P(< 1e-2) = 0.5.
        XCTAssertEqual(Double(belowHundredth) / Double(n), 0.5, accuracy: 0.04)
        let ints = SearchSpace([Parameter(name: "k", domain: .integer(low: 1, high: 3, log: false))])
        let counts = (0..<3000).reduce(into: [0, 0, 0]) { acc, t in acc[ints.sample(trial: t, seed: 2)["k"]!.intValue! - 1] += 1 }
        XCTAssert(counts.allSatisfy { abs($0 - 1000) < 120 }, "\(counts)")
    }

    func testAddingAParameterDoesNotChangeTheOthers() {
        let a = SearchSpace([Parameter(name: "lr", domain: .uniform(low: 0, high: 1))])
        let b = SearchSpace([Parameter(name: "wd", domain: .uniform(low: 0, high: 1)), Parameter(name: "lr", domain: .uniform(low: 0, high: 1))])
        XCTAssertEqual(a.sample(trial: 5, seed: 3)["lr"], b.sample(trial: 5, seed: 3)["lr"])
    }

    // MARK: Validation

    func issues(_ text: String) -> [String] {
        do {
            _ = try TuneConfig.parse(text)
            return []
        } catch let e as ConfigError {
            return e.issues.map(\.description)
        } catch {
            return ["unexpected: \(error)"]
        }
    }

    func testEveryProblemIsReportedOnItsOwnLine() {
        let bad = """
        scheduler: {type: asha, eta: 1, min_resource: 10, max_resource: 5, max_trials: 3}
        trainable: {type: surrogate}
        space:
          lr: {type: logunif, low: 1, high: 2}
          a: {type: uniform, low: 2, high: 1}
          b: {type: loguniform, low: 0, high: 1}
          c: {type: choice, values: []}
          d: {type: int, low: 1.5, high: 3}
          e: {type: uniform, low: 0, hgih: 1}
          f: {type: int, low: 0, high: 8, log: true}
        """
        XCTAssertEqual(issues(bad), [
            "space.lr.type: unknown type 'logunif' (expected one of uniform, loguniform, int, choice, grid)",
            "space.a: low (2.0) is greater than high (1.0)",
            "space.b.low: must be positive for a log scale, got 0.0",
            "space.c.values: is empty: a choice needs at least one value",
            "space.d.low: must be an integer, got a number",
            "space.e.hgih: is not a field of a 'uniform' parameter (fields: low, high, gridded)",
            "space.e.high: is missing",
            "space.f.low: must be positive for a log scale, got 0",
            "scheduler.eta: must be at least 2, got 1",
            "scheduler: min_resource (10) is greater than max_resource (5)",
        ])
    }

    func testSchedulerAndTrainableChecks() {
        XCTAssertEqual(issues("""
        scheduler: {type: asha, max_resource: 9}
        trainable: {type: surrogate}
        space: {x: {type: uniform, low: 0, high: 1}}
        """), ["scheduler: asha never ends by itself: set max_trials and/or time_limit"])
        XCTAssertEqual(issues("""
        scheduler: {type: bohb, max_resource: 9, max_trials: 3}
        trainable: {type: mystery}
        space: {x: 1}
        """), ["scheduler.type: unknown value 'bohb' (expected one of asha, sha, hyperband, async_hyperband, random)",
               "trainable.type: unknown trainable 'mystery' (expected one of surrogate, mlp, cnn, char_lstm, command)"])
        XCTAssertEqual(issues("""
        scheduler: {type: sha, max_resource: 9, early_stopping_rate: 3}
        trainable: {type: surrogate, secnds_per_unit: 2, noise: -1}
        space: {x: 1}
        """), ["scheduler.early_stopping_rate: must be between 0 and floor(log_3(9/1)) = 2, got 3"])
        XCTAssertEqual(issues("""
        scheduler: {type: sha, max_resource: 9}
        trainable: {type: surrogate, secnds_per_unit: 2, noise: -1}
        space: {x: 1}
        """), ["trainable.noise: must be at least 0, got -1", "trainable.secnds_per_unit: unknown key; did you mean seconds_per_unit?"])
        XCTAssertTrue(issues("scheduler: [1, 2").first?.hasPrefix("config: is not valid YAML or JSON") ?? false)
        XCTAssertEqual(issues("- 1\n- 2"), ["config: must be a mapping, got a list"])
    }

    func testRandomSearchOverAGridNeedsNoBudget() throws {
        let c = try TuneConfig.parse("""
        scheduler: {type: random, max_resource: 4}
        trainable: {type: surrogate}
        space: {a: {type: grid, values: [1, 2, 3]}, b: {type: grid, values: [x, y]}}
        """)
        XCTAssertEqual(c.scheduler.budget.maxTrials, 6)
    }
}

import XCTest
import CohortTune
@testable import CohortReport

/// Reports of federated and NAS run directories, from journals and logs written the
/// way `cohort fed` and `cohort nas search` write them.
final class WorkloadReportTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("workload-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ text: String) throws {
        let url = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    // MARK: Federated

    /// Two FedEx arms, 6 rounds each, evaluated every 3 rounds; arm 1 wins.
    func federatedJournal(torn: Bool = false, fedex: Bool = true) -> String {
        var lines = [#"{"event":"start","name":"fedex-small","seed":0,"data":"synthetic(1,1)","clients":30,"held_out_clients":0,"train_samples":10102,"model":"logistic","parameters":610,"ranks":1,"time":0.0}"#]
        for arm in 0..<2 {
            lines.append(#"{"event":"arm","arm":\#(arm),"config":{"server.learning_rate":0.5},"server":{"optimizer":"sgd","learning_rate":0.5,"momentum":0.0,"decay":1.0},"local":{"learning_rate":0.01,"epochs":1},"fedex_space":[{"name":"learning_rate","choices":[{"learning_rate":0.03},{"learning_rate":0.3}]},{"name":"epochs","choices":[{"epochs":2},{"epochs":4}]}],"time":0.1}"#)
            for r in 1...6 {
                let evaluated = r % 3 == 0
                let acc = evaluated ? String(0.5 + 0.05 * Double(r) + 0.1 * Double(arm)) : "null"
                let loss = evaluated ? String(1.5 - 0.1 * Double(r)) : "null"
                let lr = r < 3 ? "0.03" : "0.3"
                let state = fedex ? #""fedex":{"entropy":\#(1.4 - 0.2 * Double(r)),"baseline":0.1,"mean_validation_loss":0.2,"most_likely":{"epochs":4,"learning_rate":\#(lr)},"probability":\#(0.25 + 0.1 * Double(r)),"frozen":false},"# : ""
                lines.append(#"{"event":"round","arm":\#(arm),"round":\#(r),"sampled":[1,2],"stragglers":[],"diverged":[],"train_loss":\#(1.0 / Double(r)),"test_accuracy":\#(acc),"test_loss":\#(loss),"validation_accuracy":\#(acc),"heldout_accuracy":null,"model_digest":"00",\#(state)"time":\#(Double(r))}"#)
            }
            lines.append(#"{"event":"result","arm":\#(arm),"rung":0,"rounds":6,"metric":0.\#(3 - arm),"test_accuracy":0.\#(8 + arm),"test_loss":0.9,"validation_accuracy":0.8,"heldout_accuracy":null,"local":{"learning_rate":0.3,"epochs":4},"time":7.0}"#)
        }
        lines.append(#"{"event":"end","arm":1,"rung":0,"rounds":6,"metric":0.2,"test_accuracy":0.9,"validation_accuracy":0.8,"heldout_accuracy":null,"time":7.5}"#)
        return lines.joined(separator: "\n") + "\n" + (torn ? #"{"event":"round","arm":1,"ro"# : "")
    }

    func testAFederatedReportDrawsAccuracyLossAndFedExPerArm() throws {
        try write("events.jsonl", federatedJournal(torn: true))
        try write("config.yaml", "name: fedex-small\n")
        let (kind, html) = try ReportRegistry.standard.render(path: dir.path)
        XCTAssertEqual(kind, "federated")
        XCTAssertTrue(html.contains("<body data-kind=\"federated\">"))
        // Accuracy: one line per arm through its 2 evaluations.
        XCTAssertEqual(count("class=\"accuracy-line\"", in: html), 2)
        XCTAssertEqual(count("class=\"accuracy-point\"", in: html), 4)
        // Loss: training loss every round, test loss at evaluations, per arm.
        XCTAssertEqual(count("class=\"train-loss-line\"", in: html), 2)
        XCTAssertEqual(count("class=\"test-loss-line\"", in: html), 2)
        // FedEx: entropy and probability per arm, the most likely value of each hyperparameter per arm.
        XCTAssertEqual(count("class=\"entropy-line\"", in: html), 2)
        XCTAssertEqual(count("class=\"probability-line\"", in: html), 2)
        XCTAssertEqual(count("class=\"most-likely-line\"", in: html), 4)
        XCTAssertTrue(html.contains("data-hyperparameter=\"learning_rate\""))
        XCTAssertTrue(html.contains("<td>learning_rate</td><td>learning_rate=0.03, learning_rate=0.3</td>"), "each arm's FedEx choices")
        XCTAssertTrue(html.contains("<dd>arm 1 after 6 rounds: test accuracy 0.9000, validation 0.8000</dd>"))
        XCTAssertTrue(html.contains("<dd>arm 0: 6, arm 1: 6</dd>"), "the torn last line is dropped")
        XCTAssertFalse(html.contains("<script"))
    }

    func testAFederatedRunWithoutFedExHasNoFedExSection() throws {
        let plain = federatedJournal(fedex: false)
        try write("events.jsonl", plain)
        let html = try ReportRegistry.standard.render(path: dir.path).html
        XCTAssertFalse(html.contains("FedEx: the local"))
        XCTAssertEqual(count("class=\"accuracy-line\"", in: html), 2)
        XCTAssertFalse(html.contains("Logarithmic axis"), "losses within 100x keep a linear axis")
        XCTAssertTrue(html.contains("dashed: validation accuracy."))
    }

    func testARunWithoutValidationDataPromisesNoValidationLine() throws {
        let plain = federatedJournal(fedex: false)
        let noValidation = plain.replacingOccurrences(of: #""validation_accuracy":[0-9.]+"#, with: #""validation_accuracy":null"#,
                                                      options: .regularExpression)
        XCTAssertNotEqual(noValidation, plain)
        try write("events.jsonl", noValidation)
        let html = try ReportRegistry.standard.render(path: dir.path).html
        XCTAssertEqual(count("class=\"accuracy-line\"", in: html), 2)
        XCTAssertEqual(count("class=\"validation-line\"", in: html), 0)
        XCTAssertFalse(html.contains("dashed: validation accuracy"))
        XCTAssertTrue(html.contains("at each evaluation.<"), "the caption ends without promising dashed lines")
    }

    func testADivergingArmPutsTheLossOnALogarithmicAxis() throws {
        let plain = federatedJournal(fedex: false)
        let diverged = plain.replacingOccurrences(of: #""train_loss":1.0,"#, with: #""train_loss":5000.0,"#)
        XCTAssertNotEqual(diverged, plain)
        try write("events.jsonl", diverged)
        let html = try ReportRegistry.standard.render(path: dir.path).html
        XCTAssertTrue(html.contains("Logarithmic axis: the losses span more than a factor of 100."))
        XCTAssertEqual(count("class=\"train-loss-line\"", in: html), 2)
    }

    // MARK: NAS

    func nasRun(gaea: Bool) throws {
        try write("config.yaml", "name: \(gaea ? "gaea" : "rsws")-small\nstrategy: {type: \(gaea ? "gaea" : "rsws")}\n")
        try write("supernet.jsonl", (1...3).map { #"{"epoch":\#($0),"loss":\#(2.3 - 0.2 * Double($0)),"accuracy":\#(0.1 * Double($0)),"steps":11,"seconds":1.0,"steps_per_second":11.0,"learning_rate":0.05}"# }.joined(separator: "\n") + "\n")
        let cell = "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|"
        if gaea {
            let rows = (0..<4).map { k -> String in
                let w = (0..<6).map { _ in "[0.2,0.2,\(0.2 - 0.02 * Double(k)),\(0.2 + 0.02 * Double(k)),0.2]" }.joined(separator: ",")
                return #"{"step":\#(k * 4),"epoch":0,"weights":[\#(w)],"derived":"\#(cell)"}"#
            }
            try write("architecture-weights.jsonl", rows.joined(separator: "\n") + "\n")
            try write("candidates.json", #"[{"architecture":"\#(cell)","round":0,"validation_accuracy":0.21,"validation_loss":2.1}]"#)
        } else {
            let cells = (0..<10).map { "|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|avg_pool_3x3~\($0 % 3)|".replacingOccurrences(of: "none~1|+", with: "none~1|+\($0)") }
            try write("scores.jsonl", cells.enumerated().map { #"{"round":0,"architecture":"\#($0.element)","minibatch_accuracy":\#(0.1 + 0.01 * Double($0.offset)),"minibatch_loss":2.3}"# }.joined(separator: "\n") + "\n")
            try write("candidates.json", "[" + cells.suffix(2).map { #"{"architecture":"\#($0)","round":0,"minibatch_accuracy":0.19,"minibatch_loss":2.2,"validation_accuracy":0.2,"validation_loss":2.2}"# }.joined(separator: ",") + "]")
        }
        try write("summary.json", #"{"strategy":"\#(gaea ? "gaea" : "rsws")","seed":1,"ranks":2,"supernet_parameters":23138,"supernet_steps":33,"supernet_seconds":7.3,"chosen":"\#(cell)","chosen_validation_accuracy":0.17,"chosen_test_accuracy":0.1635,"search_cost_in_trainings":10.33,"total_seconds":13.7,"retrained":[{"trial":0,"architecture":"\#(cell)","validation_accuracy":0.17,"test_accuracy":0.1635}]}"#)
    }

    func testANASReportDrawsEveryEdgesWeightsPerOperation() throws {
        try nasRun(gaea: true)
        let (kind, html) = try ReportRegistry.standard.render(path: dir.path)
        XCTAssertEqual(kind, "nas")
        XCTAssertEqual(count("class=\"chart edge-weights\"", in: html), 6)
        XCTAssertEqual(count("class=\"op-weight\"", in: html), 30, "6 edges x 5 operations")
        XCTAssertTrue(html.contains("data-edge=\"2-3\" data-op=\"avg_pool_3x3\""))
        XCTAssertEqual(count("class=\"epoch-loss\"", in: html), 1)
        XCTAssertTrue(html.contains("<dd>validation 0.1700, test 0.1635</dd>"))
        XCTAssertTrue(html.contains("<td class=\"num\">0.2100</td><td class=\"num\">0.1700</td><td class=\"num\">0.1635</td>"), "candidate with its retrained accuracies")
        XCTAssertFalse(html.contains("class=\"chart candidate-scores\""), "GAEA has no sampled architectures")
    }

    func testARandomSearchNASReportRanksEverySampledArchitecture() throws {
        try nasRun(gaea: false)
        let html = try ReportRegistry.standard.render(path: dir.path).html
        XCTAssertFalse(html.contains("edge-weights"))
        XCTAssertEqual(count("class=\"sampled-score\"", in: html), 10)
        XCTAssertEqual(count("class=\"rescored-score\"", in: html), 2)
        XCTAssertTrue(html.contains("10 sampled architectures scored"))
    }
}

import CohortFederated
import CohortFiles
import Foundation
import CohortTune

/// The report of a federated run directory (`cohort fed`): accuracy and loss against
/// rounds for every arm, FedEx's distribution over the local hyperparameters as the
/// rounds go (its entropy, the probability of its most likely configuration, and
/// that configuration's value of each hyperparameter), and the arms' results.
///
/// Read from `events.jsonl` through ``FederatedEvent``, the journal's own type.
public struct FederatedReport: ReportRenderer {
    public let kind = "federated"
    public let accepts = "a federated run directory (an events.jsonl opening with a start event naming data and clients)"

    public init() {}

    public func canRender(_ input: ReportInput) -> Bool {
        guard let first = input.firstEvent, case let .start(start) = FederatedEvent(json: first) else { return false }
        return start.clients != nil && start.data != nil
    }

    typealias Round = FederatedEvent.Round

    public func render(_ input: ReportInput) throws -> HTMLPage {
        let events = try RunFiles.lines(input.run.journalURL)
        return page(events: events, directory: input.url.lastPathComponent)
    }

    public func page(events: [JSONValue]) -> HTMLPage { page(events: events, directory: "") }

    func page(events: [JSONValue], directory: String) -> HTMLPage {
        var start: FederatedEvent.Start?, end: FederatedEvent.Result?
        var arms: [FederatedEvent.Arm] = [], results: [FederatedEvent.Result] = []
        // A resumed run may journal a round again: the last word counts.
        var byKey: [[Int]: Round] = [:]
        for event in events.map(FederatedEvent.init(json:)) {
            switch event {
            case let .start(s): if start == nil { start = s }
            case let .arm(a): arms.append(a)
            case let .round(r): byKey[[r.arm, r.round]] = r
            case let .result(r): results.append(r)
            case let .end(r): end = r
            case .other: break
            }
        }
        let rounds = byKey.values.sorted { ($0.arm, $0.round) < ($1.arm, $1.round) }
        let armIDs = Array(Set(rounds.map(\.arm))).sorted()
        func armRounds(_ a: Int) -> [Round] { rounds.filter { $0.arm == a } }
        let name = start?.name ?? directory
        let multiple = armIDs.count > 1
        func armLabel(_ a: Int) -> String { "arm \(a)" }

        var page = HTMLPage(title: "Federated run \(name)",
                            subtitle: [start?.data.map { "data \(Self.text($0))" }, start?.clients.map { "\($0) clients" },
                                       start?.model.map { "model \($0)" }, start?.ranks.map { "\($0) ranks" }]
                                .compactMap { $0 }.joined(separator: ", "),
                            kind: kind)
        var facts: [(String, String)] = []
        if let s = start {
            facts.append(("data", "\(s.data.map(Self.text) ?? "?"): \(s.clients ?? 0) clients (\(s.heldOutClients ?? 0) held out), \(s.trainSamples ?? 0) training samples"))
            facts.append(("model", "\(s.model ?? "?"), \(s.parameters ?? 0) parameters"))
        }
        facts.append(("arms", "\(armIDs.count)"))
        facts.append(("rounds", armIDs.map { "\(armLabel($0)): \(armRounds($0).map(\.round).max() ?? 0)" }.joined(separator: ", ")))
        if let e = end, let a = e.arm {
            var s = "arm \(a) after \(e.rounds ?? 0) rounds"
            if let t = e.testAccuracy { s += ": test accuracy \(NumberFormat.fixed(t, 4))" }
            if let v = e.validationAccuracy { s += ", validation \(NumberFormat.fixed(v, 4))" }
            if let t = e.tunedTestAccuracy { s += ", after fine-tuning \(NumberFormat.fixed(t, 4))" }
            facts.append(("best", s))
        } else {
            facts.append(("best", "none yet (no end event: interrupted or still running)"))
        }
        if let last = rounds.map({ $0.time ?? 0 }).max() { facts.append(("duration", "\(NumberFormat.fixed(last, 1)) seconds")) }
        page.facts(facts)

        // MARK: Accuracy and loss
        page.heading("Accuracy and loss against rounds")
        var accuracy = Chart(title: "Test accuracy of the global model", xLabel: "round", yLabel: "accuracy", cssClass: "fed-accuracy")
        var loss = Chart(title: "Loss", xLabel: "round", yLabel: "loss", cssClass: "fed-loss")
        for (i, a) in armIDs.enumerated() {
            let color = Palette.color(i)
            let acc = armRounds(a).compactMap { r in r.testAccuracy.map { (x: Double(r.round), y: $0) } }
            accuracy.series.append(Series(points: acc, color: color, strokeWidth: 2, cssClass: "accuracy-line", title: armLabel(a), data: [("data-arm", String(a))]))
            accuracy.series.append(Series(points: acc, color: color, style: .dots(3), cssClass: "accuracy-point"))
            let val = armRounds(a).compactMap { r in r.validationAccuracy.map { (x: Double(r.round), y: $0) } }
            if !val.isEmpty { accuracy.series.append(Series(points: val, color: color, dashed: true, strokeWidth: 1.2, opacity: 0.8, cssClass: "validation-line")) }
            accuracy.legend.append(LegendEntry(armLabel(a), color: color))
            let train = armRounds(a).compactMap { r in r.trainLoss.map { (x: Double(r.round), y: $0) } }
            loss.series.append(Series(points: train, color: color, strokeWidth: 1.5, opacity: 0.9, cssClass: "train-loss-line", title: "\(armLabel(a)) training loss"))
            let test = armRounds(a).compactMap { r in r.testLoss.map { (x: Double(r.round), y: $0) } }
            loss.series.append(Series(points: test, color: color, dashed: true, strokeWidth: 2, cssClass: "test-loss-line", title: "\(armLabel(a)) test loss"))
            loss.legend.append(LegendEntry(armLabel(a), color: color))
        }
        let hasValidation = accuracy.series.contains { $0.cssClass == "validation-line" }
        if hasValidation { accuracy.legend.append(LegendEntry("validation", color: "#555", dashed: true)) }
        loss.legend.append(LegendEntry("test (dashed)", color: "#555", dashed: true))
        accuracy.includeZeroX = true
        loss.includeZeroX = true
        // One diverging arm (losses in the thousands) would flatten every other curve
        // onto the axis: past a spread of 100x the loss axis is logarithmic.
        let losses = loss.series.flatMap { $0.points.map(\.y) }.filter { $0.isFinite && $0 > 0 }
        let logLoss = (losses.max() ?? 0) > 100 * (losses.min() ?? .infinity)
        if logLoss { loss.yKind = .log }
        page.figure(accuracy.svg(), caption: "Pooled over every training client's test samples, at each evaluation"
                    + (hasValidation ? "; dashed: validation accuracy." : "."))
        page.figure(loss.svg(), caption: "Solid: the participating clients' mean local training loss each round; dashed: the global model's test loss at evaluations."
                    + (logLoss ? " Logarithmic axis: the losses span more than a factor of 100." : ""))

        // MARK: FedEx
        let fedexRounds = rounds.filter { $0.fedex != nil }
        if !fedexRounds.isEmpty {
            page.heading("FedEx: the local hyperparameter distribution over rounds")
            var entropy = Chart(title: "Entropy of the distribution", xLabel: "round", yLabel: "entropy (nats)", cssClass: "fedex-entropy")
            var probability = Chart(title: "Probability of the most likely configuration", xLabel: "round", yLabel: "probability", cssClass: "fedex-probability")
            entropy.width = 445; entropy.height = 300; probability.width = 445; probability.height = 300
            var names = Set<String>()
            for r in fedexRounds { for (k, _) in r.fedex?.mostLikely ?? [] { names.insert(k) } }
            var valueCharts: [Chart] = names.sorted().map { n in
                var c = Chart(title: "Most likely \(n)", xLabel: "round", yLabel: n, cssClass: "fedex-value")
                c.width = 445; c.height = 240
                return c
            }
            for (i, a) in armIDs.enumerated() {
                let color = Palette.color(i)
                let mine = fedexRounds.filter { $0.arm == a }
                guard !mine.isEmpty else { continue }
                entropy.series.append(Series(points: mine.compactMap { r in r.fedex?.entropy.map { (x: Double(r.round), y: $0) } },
                                             color: color, strokeWidth: 2, cssClass: "entropy-line", data: [("data-arm", String(a))]))
                probability.series.append(Series(points: mine.compactMap { r in r.fedex?.probability.map { (x: Double(r.round), y: $0) } },
                                                 color: color, strokeWidth: 2, cssClass: "probability-line", data: [("data-arm", String(a))]))
                for (j, n) in names.sorted().enumerated() {
                    let pts = mine.compactMap { r in r.fedex?.mostLikely.first { $0.key == n }?.value.number.map { (x: Double(r.round), y: $0) } }
                    valueCharts[j].series.append(Series(points: pts, color: color, style: .step, strokeWidth: 2, cssClass: "most-likely-line",
                                                        data: [("data-arm", String(a)), ("data-hyperparameter", n)]))
                }
            }
            for j in valueCharts.indices {
                let ys = valueCharts[j].series.flatMap { $0.points.map(\.y) }.filter { $0 > 0 }
                if let lo = ys.min(), let hi = ys.max(), lo > 0, hi / lo >= 20 { valueCharts[j].yKind = .log }
            }
            probability.yDomain = (0, 1.02)
            page.figureRow([entropy.svg(), probability.svg()],
                           caption: "FedEx keeps a categorical distribution per local hyperparameter; its entropy falls and the most likely configuration's probability rises as it settles."
                           + (multiple ? " One line per arm (colours as above)." : ""))
            page.figureRow(valueCharts.map { $0.svg() },
                           caption: "The value of each hyperparameter in the distribution's most likely configuration, round by round.")
            // Each arm's choices.
            var rows: [[String]] = []
            for arm in arms {
                for c in arm.fedexSpace {
                    rows.append([String(arm.arm), c.name, c.choices.map(Self.text).joined(separator: ", ")])
                }
            }
            if !rows.isEmpty { page.table(header: ["arm", "hyperparameter", "choices"], rows: rows, cssClass: "fedex-space") }
        }

        // MARK: Arms and results
        page.heading("Arms")
        page.table(header: ["arm", "server", "local"], rows: arms.map { a in
            [String(a.arm), Self.text(a.server), Self.text(a.local)]
        }, cssClass: "arms")
        if !results.isEmpty {
            page.heading("Results")
            func f(_ v: Double?) -> String { v.map { NumberFormat.fixed($0, 4) } ?? "-" }
            func i(_ v: Int?) -> String { v.map(String.init) ?? "?" }
            page.table(header: ["arm", "rung", "rounds", "metric", "test accuracy", "validation accuracy", "fine-tuned test accuracy", "local settled on"],
                       rows: results.map { r in
                           [i(r.arm), i(r.rung), i(r.rounds), f(r.metric), f(r.testAccuracy), f(r.validationAccuracy),
                            f(r.tunedTestAccuracy), Self.text(r.local)]
                       }, cssClass: "results")
        }
        return page
    }

    /// `name=value name=value`.
    static func text(_ settings: FederatedEvent.Settings) -> String {
        settings.map { "\($0.key)=\(text($0.value))" }.joined(separator: " ")
    }

    static func text(_ v: JSONValue) -> String {
        if let i = v.intValue, v.doubleValue == Double(i) { return String(i) }
        if let d = v.doubleValue { return NumberFormat.short(d) }
        return v.stringValue ?? v.description
    }
}

import CohortTune
import Foundation

/// What reuse did in a pipeline run, per stage, from the journaled results: how
/// often each stage's output was computed, found in a worker's memory or found on
/// the shared disk, the seconds spent computing, and the seconds hits saved (an
/// entry's compute cost minus the time it took to fetch).
public struct ReuseSummary: Equatable, Sendable {
    public struct Stage: Equatable, Sendable {
        public var name: String
        public var computed = 0, memoryHits = 0, diskHits = 0
        public var computeSeconds = 0.0
        public var savedSeconds = 0.0
        public var requests: Int { computed + memoryHits + diskHits }
    }

    public var stages: [Stage]
    /// Seconds the classifiers trained, over all jobs.
    public var classifierSeconds: Double

    /// `nil` when no result carries pipeline metrics (not a pipeline run).
    public init?(_ events: [JournalEvent]) {
        var byName: [String: Stage] = [:]
        var order: [String] = []
        var classifier = 0.0
        for event in events {
            guard case let .result(f) = event else { continue }
            classifier += f.metrics["pipeline.classifier.seconds"] ?? 0
            for (key, source) in f.metrics.sorted(by: { $0.key < $1.key }) where key.hasPrefix("pipeline.") && key.hasSuffix(".source") {
                let name = String(key.dropFirst("pipeline.".count).dropLast(".source".count))
                if byName[name] == nil { byName[name] = Stage(name: name); order.append(name) }
                let seconds = f.metrics["pipeline.\(name).seconds"] ?? 0, cost = f.metrics["pipeline.\(name).cost"] ?? 0
                switch StageSource(rawValue: Int(source)) {
                case .computed:
                    byName[name]?.computed += 1
                    byName[name]?.computeSeconds += seconds
                case .memory:
                    byName[name]?.memoryHits += 1
                    byName[name]?.savedSeconds += max(0, cost - seconds)
                case .disk:
                    byName[name]?.diskHits += 1
                    byName[name]?.savedSeconds += max(0, cost - seconds)
                case nil: break
                }
            }
        }
        guard !order.isEmpty else { return nil }
        // Stages in the order they are usually chained.
        stages = PipelineStage.Kind.allCases.map(\.rawValue).compactMap { byName[$0] }
            + order.filter { PipelineStage.Kind(rawValue: $0) == nil }.compactMap { byName[$0] }
        classifierSeconds = classifier
    }

    /// Rows for a table: stage, requests, computed, memory hits, disk hits, compute s, saved s.
    public var rows: [[String]] {
        stages.map { s in
            [s.name, "\(s.requests)", "\(s.computed)", "\(s.memoryHits)", "\(s.diskHits)",
             String(format: "%.2f", s.computeSeconds), String(format: "%.2f", s.savedSeconds)]
        }
    }

    public static let header = ["stage", "requests", "computed", "memory hits", "disk hits", "compute s", "saved s"]
}

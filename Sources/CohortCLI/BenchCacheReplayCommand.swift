import CohortFiles
import ArgumentParser
import CohortPipelines
import CohortTune
import Foundation

/// `cohort bench cache-replay`: the caching policies replayed on a pipeline run's
/// trace of stage requests, and the integer program of the optimum for glpsol.
struct BenchCacheReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache-replay",
        abstract: "Replay a pipeline run's cache requests through LRU, LFU and cost-aware caches; write the optimum's integer program.",
        discussion: """
        Reads the trace of stage requests from the journal of a `type: pipeline` run and
        prints the recompute seconds of each policy at each capacity (one cache), beside
        no cache and an unbounded one. With --lp-dir, writes one CPLEX LP file per
        capacity, whose optimum is the least recompute cost:
          glpsol --lp DIR/capacity-1.lp -o DIR/capacity-1.out
        (scripts/bench/pipeline.sh does this and prints the table).
        """)

    @Option(name: .customLong("run"), help: "The run directory of a pipeline search.")
    var runPath: String

    @Option(help: "A cache capacity (512MB, 2GiB, ...); repeat for several.")
    var capacity: [String] = []

    @Option(help: "Only the first N requests (the integer program grows with the trace).")
    var requests: Int?

    @Option(help: "Write capacity-K.lp for each capacity here.")
    var lpDir: String?

    func run() throws {
        let trace: CacheTrace
        var capacities: [Int] = []
        do {
            for c in capacity {
                switch ByteSize.parse(.string(c)) {
                case let .success(b): capacities.append(b)
                case let .failure(p): throw TuneRunner.TuneInputError("--capacity \(c): \(p.message)")
                }
            }
            if let requests, requests < 1 { throw TuneRunner.TuneInputError("--requests must be at least 1, got \(requests)") }
            let directory = RunDirectory(URL(fileURLWithPath: runPath))
            let text = try String(contentsOf: directory.configURL, encoding: .utf8)
            let document = try ConfigDocument.parse(text)
            guard document["trainable"]?["type"]?.stringValue == "pipeline",
                  let stages = document["trainable"]?["stages"]?.arrayValue?.compactMap(\.stringValue) else {
                throw TuneRunner.TuneInputError("\(runPath) is not the run of a pipeline search (trainable.type: pipeline)")
            }
            let space = try SearchSpace(json: document["space"] ?? .null)
            let events = try JournalContents.read(url: directory.journalURL, space: space).events
            let full = CacheTrace.read(events, stages: stages)
            trace = requests.map { full.prefix($0) } ?? full
        } catch let e as TuneRunner.TuneInputError {
            throw e
        } catch {
            throw TuneRunner.TuneInputError("\(error)")
        }
        let distinct = Set(trace.requests).count
        print("trace: \(trace.requests.count) requests, \(trace.items.count) stage outputs (\(distinct) distinct chains)")
        print(String(format: "no cache: %.3f s of stage computation; unbounded cache: %.3f s", trace.uncachedSeconds, trace.unboundedSeconds))
        var rows: [[String]] = []
        for (k, cap) in capacities.enumerated() {
            var row = [ByteSize.format(cap)]
            for policy in CachePolicy.allCases {
                let o = trace.replay(policy: policy, capacity: cap)
                row.append(String(format: "%.3f", o.recomputeSeconds))
            }
            rows.append(row)
            if let lpDir {
                let url = URL(fileURLWithPath: lpDir).appendingPathComponent("capacity-\(k + 1).lp")
                do {
                    try FileManager.default.createDirectory(atPath: lpDir, withIntermediateDirectories: true)
                    try AtomicFile.write(trace.integerProgram(capacity: cap), to: url)
                } catch { throw TuneRunner.TuneInputError("\(error)") }
            }
        }
        if !rows.isEmpty {
            print(Table(header: ["capacity"] + CachePolicy.allCases.map { "\($0.rawValue) s" }, rows: rows).rendered)
        }
    }
}

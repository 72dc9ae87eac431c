import XCTest
import CohortTensor
@testable import CohortTune

/// A one-parameter space for scheduler tests (the values do not matter there).
let tinySpace = SearchSpace([Parameter(name: "x", domain: .uniform(low: 0, high: 1))])

extension SchedulerDecision {
    var job: Job? { if case let .run(j) = self { return j } else { return nil } }
}

/// Asks for a job and fails the test if the scheduler does not give one.
func takeJob<S: TrialScheduler>(_ s: inout S, now: Double = 0, file: StaticString = #filePath, line: UInt = #line) -> Job {
    let d = s.nextDecision(now: now)
    guard let job = d.job else {
        XCTFail("expected a job, got \(d)", file: file, line: line)
        return Job(trial: -1, config: TrialConfig(), rung: -1, resource: 0)
    }
    return job
}

/// "t<trial>r<rung>" for compact sequence assertions.
func label(_ job: Job) -> String { "t\(job.trial)r\(job.rung)" }

/// Runs a scheduler to the end with `workers` virtual workers whose jobs take
/// resource * (0.5 + random) seconds, journaling into a coordinator's events; the
/// metric of trial t at rung k comes from `metric`. Deterministic for a seed.
func simulate(_ scheduler: any TrialScheduler, mode: MetricMode = .min, workers: Int, seed: UInt64,
              stopAfterEvents: Int? = nil, startingFrom replay: FarmCoordinator.Replay? = nil,
              failEvery: Int? = nil,
              metric: (Int, Int) -> Double) throws -> [JournalEvent] {
    var c = replay?.coordinator ?? FarmCoordinator(scheduler: scheduler, mode: mode)
    var events: [JournalEvent] = []
    var now = replay?.lastTime ?? 0
    var rng = RandomStream(seed: seed, stream: [99])
    if let replay { events.append(.resume(time: now, requeued: replay.interrupted.count)) }
    var finishing: [(at: Double, worker: Int, job: Job)] = []
    var idle = Array(1...workers)
    while true {
        // Hand out work to idle workers.
        var stillIdle: [Int] = []
        for w in idle {
            let (a, e) = c.assign(worker: w, now: now)
            if let e { events.append(e) }
            if let stop = stopAfterEvents, events.count >= stop { return events }
            if case let .run(job) = a {
                finishing.append((now + job.resource * (0.5 + rng.uniformDouble()), w, job))
            } else {
                stillIdle.append(w)
            }
        }
        idle = stillIdle
        guard !finishing.isEmpty else { break }
        finishing.sort { ($0.at, $0.worker) < ($1.at, $1.worker) }
        let next = finishing.removeFirst()
        now = next.at
        let result: TrialResult
        if let f = failEvery, next.job.trial % f == f - 1 {
            result = .failed(trial: next.job.trial, rung: next.job.rung, "diverged")
        } else {
            result = .metric(trial: next.job.trial, rung: next.job.rung, metric(next.job.trial, next.job.rung))
        }
        if let e = try c.complete(worker: next.worker, result: result, seconds: now, now: now) { events.append(e) }
        if let stop = stopAfterEvents, events.count >= stop { return events }
        idle.append(next.worker)
    }
    events.append(c.endEvent(now: now, reason: "budget spent"))
    return events
}

/// A metric with structure: trials differ, later rungs improve, a little noise.
func structuredMetric(seed: UInt64) -> (Int, Int) -> Double {
    { trial, rung in
        var r = RandomStream(seed: seed, stream: [UInt64(trial)])
        let quality = r.uniformDouble()
        var n = RandomStream(seed: seed, stream: [UInt64(trial), UInt64(rung) + 1000])
        return quality / Double(rung + 1) + 0.05 * n.uniformDouble()
    }
}

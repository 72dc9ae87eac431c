import Foundation

/// What a worker is told to do.
public enum Assignment: Equatable, Sendable {
    case run(Job)
    /// Nothing to do until another result arrives: stay idle.
    case wait
    /// The search is over.
    case stop
}

/// The coordinator's decisions, free of transport and clocks: the MPI farm, the
/// in-process farm and a simulated cluster all drive this one type, so they make
/// the same decisions given the same sequence of requests and results.
///
/// It wraps a ``TrialScheduler`` with what a real farm adds: which worker runs
/// what, jobs to hand out again (their worker was lost, or they were in flight when
/// a run was killed) before asking the scheduler for new work, and per-worker busy
/// time. Every state change returns the journal event that records it; the caller
/// writes that event before acting on the decision.
public struct FarmCoordinator: Sendable {
    public private(set) var scheduler: any TrialScheduler
    public let mode: MetricMode
    /// Jobs to dispatch again before anything new, oldest first.
    public private(set) var requeued: [Job] = []
    /// The job each busy worker runs and when it started.
    public private(set) var running: [Int: (job: Job, since: Double)] = [:]
    public private(set) var busySeconds: [Int: Double] = [:]
    public private(set) var results = 0
    public private(set) var failures = 0
    /// The best successful result at the highest rung reached so far.
    public private(set) var best: (trial: Int, rung: Int, metric: Double, resource: Double)?
    /// Stop starting new work once a result trained to `resource` reaches `metric`.
    public let target: StopTarget?
    /// Whether a result has reached the target; from then on only jobs already
    /// started (or queued again after a loss) run, and the farm ends when they answer.
    public private(set) var targetReached = false
    /// When set, a free worker gets, among the jobs ready, the one whose cached prefix
    /// it holds.
    public var affinity: PrefixAffinity?

    public init(scheduler: any TrialScheduler, mode: MetricMode, target: StopTarget? = nil) {
        self.scheduler = scheduler
        self.mode = mode
        self.target = target
    }

    public var isIdle: Bool { running.isEmpty && requeued.isEmpty }

    // MARK: Decisions

    /// The next assignment for a free `worker` at time `now`, and the `start` event
    /// to journal when it is a job.
    public mutating func assign(worker: Int, now: Double) -> (Assignment, JournalEvent?) {
        if !requeued.isEmpty {
            let job = requeued.removeFirst()
            return (.run(job), markRunning(job, worker: worker, now: now))
        }
        if targetReached { return (running.isEmpty ? .stop : .wait, nil) }
        let decision: SchedulerDecision
        if let affinity {
            decision = scheduler.nextDecision(now: now, preferring: { affinity.score($0, worker: worker) })
        } else {
            decision = scheduler.nextDecision(now: now)
        }
        switch decision {
        case let .run(job): return (.run(job), markRunning(job, worker: worker, now: now))
        case .wait: return (.wait, nil)
        case .finished: return (running.isEmpty ? .stop : .wait, nil)
        }
    }

    private mutating func markRunning(_ job: Job, worker: Int, now: Double) -> JournalEvent {
        running[worker] = (job, now)
        affinity?.note(job, worker: worker)
        return .start(.init(job: job, worker: worker, time: now))
    }

    /// True when the scheduler has nothing more to give and nothing is running.
    public mutating func isFinished(now: Double) -> Bool {
        guard isIdle else { return false }
        if targetReached { return true }
        // A `.finished` answer never changes the scheduler, so asking is safe; a
        // `.run` answer would, so only ask when nothing could be dispatched anyway.
        if case .finished = scheduler.nextDecisionPeek(now: now) { return true }
        return false
    }

    /// When `worker` answers a job other than the one it was given, it no longer runs
    /// that one: the job is declared lost (back to the queue) so it is not forgotten.
    public mutating func reclaim(worker: Int, answering result: TrialResult, now: Double) -> JournalEvent? {
        guard let (job, _) = running[worker], job.trial != result.trial || job.rung != result.rung else { return nil }
        return lose(worker: worker, reason: "answered trial \(result.trial) rung \(result.rung) instead of this job", now: now)
    }

    /// Records the answer of `worker`. Returns the `result`/`failed` event, or `nil`
    /// when the answer is stale (the job was already finished by another worker
    /// after this one was declared lost).
    public mutating func complete(worker: Int, result: TrialResult, seconds: Double, now: Double,
                                  metrics: [String: Double] = [:]) throws -> JournalEvent? {
        guard let (job, since) = running[worker], job.trial == result.trial, job.rung == result.rung else {
            // A worker declared lost may still answer. If its job waits in the queue,
            // take the answer and drop the queued copy.
            if let i = requeued.firstIndex(where: { $0.trial == result.trial && $0.rung == result.rung }) {
                let job = requeued.remove(at: i)
                return try finish(job, worker: worker, result: result, seconds: seconds, now: now, metrics: metrics)
            }
            return nil
        }
        running[worker] = nil
        busySeconds[worker, default: 0] += Swift.max(0, now - since)
        return try finish(job, worker: worker, result: result, seconds: seconds, now: now, metrics: metrics)
    }

    private mutating func finish(_ job: Job, worker: Int, result: TrialResult, seconds: Double, now: Double,
                                 metrics: [String: Double] = [:]) throws -> JournalEvent {
        try scheduler.record(result)
        results += 1
        let finish = JournalEvent.Finish(trial: job.trial, bracket: job.bracket, rung: job.rung, resource: job.resource,
                                         metric: result.metric, reason: nil, worker: worker, seconds: seconds, time: now,
                                         metrics: metrics)
        guard let metric = result.metric else {
            failures += 1
            var f = finish
            if case let .failed(reason) = result.outcome { f.reason = reason }
            return .failed(f)
        }
        noteBest(trial: job.trial, rung: job.rung, metric: metric, resource: job.resource)
        noteTarget(metric: metric, resource: job.resource)
        return .result(finish)
    }

    private mutating func noteBest(trial: Int, rung: Int, metric: Double, resource: Double) {
        if let b = best {
            let better = resource > b.resource || (resource == b.resource && (mode.isBetter(metric, than: b.metric) || (metric == b.metric && trial < b.trial)))
            if !better { return }
        }
        best = (trial, rung, metric, resource)
    }

    private mutating func noteTarget(metric: Double, resource: Double) {
        if let target, !targetReached, target.isReached(metric: metric, resource: resource, mode: mode) { targetReached = true }
    }

    /// The reason the run ends: the target, or `otherwise` (the budget).
    public func endReason(otherwise: String) -> String { targetReached ? "target reached" : otherwise }

    /// Declares `worker` lost: its job goes back to the front of the queue.
    public mutating func lose(worker: Int, reason: String, now: Double) -> JournalEvent? {
        guard let (job, since) = running[worker] else { return nil }
        running[worker] = nil
        busySeconds[worker, default: 0] += Swift.max(0, now - since)
        requeued.insert(job, at: 0)
        return .lost(.init(trial: job.trial, bracket: job.bracket, rung: job.rung, worker: worker, reason: reason, time: now))
    }

    /// Workers whose job has run longer than its limit at `now`.
    public func overdue(now: Double, limit: (Job) -> Double) -> [Int] {
        running.filter { now - $0.value.since > limit($0.value.job) }.map(\.key).sorted()
    }

    /// Workers whose job has run longer than `timeout` seconds at `now`.
    public func overdue(now: Double, timeout: Double) -> [Int] { overdue(now: now, limit: { _ in timeout }) }

    /// Gives up on a queued job that keeps taking the run down with it: it is
    /// recorded as failed (the scheduler goes on without it) and leaves the queue.
    public mutating func abandon(_ job: Job, worker: Int, reason: String, now: Double) throws -> JournalEvent? {
        guard let i = requeued.firstIndex(where: { $0.trial == job.trial && $0.rung == job.rung }) else { return nil }
        requeued.remove(at: i)
        return try finish(job, worker: worker, result: .failed(trial: job.trial, rung: job.rung, reason), seconds: 0, now: now)
    }

    /// The closing event.
    public func endEvent(now: Double, reason: String) -> JournalEvent { .end(endRecord(now: now, reason: reason)) }

    /// What the closing event says.
    public func endRecord(now: Double, reason: String) -> JournalEvent.End {
        .init(time: now, reason: reason, trials: scheduler.trialsStarted, results: results, failures: failures,
              bestTrial: best?.trial, bestMetric: best?.metric)
    }
}

// MARK: Rebuilding from a journal

extension FarmCoordinator {
    /// The state a run reached, rebuilt from its journal so that it can go on.
    public struct Replay {
        public var coordinator: FarmCoordinator
        /// The time of the last event: the resumed run's clock starts here.
        public var lastTime: Double
        /// Whether the journal already ends with `end`.
        public var ended: Bool
        /// Jobs that were in flight when the run stopped; they are queued to run again.
        public var interrupted: [Job]
        /// Whether the run left on purpose (a `stop` event last), not by dying.
        public var stoppedOnPurpose: Bool
        /// For each interrupted job (by trial), how many times in a row the run died
        /// while it was in flight, this death included, and the worker it last ran on.
        public var crashes: [Int: (count: Int, worker: Int)]

        /// Interrupted jobs in flight at `limit` or more deaths in a row: likely the
        /// cause (a trainable that kills its process), given up instead of re-sent.
        public func poisoned(limit: Int) -> [(job: Job, worker: Int, deaths: Int)] {
            interrupted.compactMap { job in
                guard let c = crashes[job.trial], c.count >= limit else { return nil }
                return (job, c.worker, c.count)
            }
        }
    }

    /// Replays `events` through a fresh scheduler: every `start` must be exactly the
    /// job the scheduler decides at that point (same trial, rung, resource and
    /// configuration), every `result`/`failed` is recorded once. Jobs started and
    /// never answered are queued to run again; finished results are never repeated.
    public static func replay(_ events: [JournalEvent], scheduler: any TrialScheduler, mode: MetricMode,
                              target: StopTarget? = nil) throws -> Replay {
        var c = FarmCoordinator(scheduler: scheduler, mode: mode, target: target)
        var inFlight: [Int: Job] = [:]          // by trial
        var crashes: [Int: (count: Int, worker: Int)] = [:]   // by trial, while in flight
        var stopped = false                     // the last session ended with `stop`
        var lastTime = 0.0
        var ended = false
        for (index, event) in events.enumerated() {
            let line = index + 1
            lastTime = Swift.max(lastTime, event.time)
            switch event {
            case let .start(s):
                if let current = inFlight[s.job.trial] {
                    // Dispatched again after a loss or a resume: not a new decision.
                    guard current.rung == s.job.rung else {
                        throw JournalError.mismatch(line: line, "trial \(s.job.trial) starts rung \(s.job.rung) while rung \(current.rung) is unfinished")
                    }
                    crashes[s.job.trial]?.worker = s.worker
                    continue
                }
                // Among equally ready jobs the run may have preferred another than the
                // first (affinity): the journaled one is asked for, and must be ready.
                let journaled = s.job
                guard !c.targetReached, case let .run(job) = c.scheduler.nextDecision(now: s.time, preferring: {
                    $0.trial == journaled.trial && $0.rung == journaled.rung ? 1 : 0
                }) else {
                    throw JournalError.mismatch(line: line, "the scheduler would not start a job here")
                }
                guard job == s.job else {
                    throw JournalError.mismatch(line: line, "expected trial \(job.trial) rung \(job.rung) at resource \(job.resource), the journal has trial \(s.job.trial) rung \(s.job.rung) at resource \(s.job.resource)")
                }
                inFlight[job.trial] = job
                crashes[job.trial] = (0, s.worker)
            case let .result(f), let .failed(f):
                guard let job = inFlight[f.trial], job.rung == f.rung else { continue } // a stale duplicate answer
                inFlight[f.trial] = nil
                crashes[f.trial] = nil
                try c.scheduler.record(f.result)
                c.results += 1
                if let m = f.metric {
                    c.noteBest(trial: f.trial, rung: f.rung, metric: m, resource: f.resource)
                    c.noteTarget(metric: m, resource: f.resource)
                } else { c.failures += 1 }
                c.busySeconds[f.worker, default: 0] += f.seconds
            case .end:
                ended = true
            case .stop:
                stopped = true
            case .resume:
                // The session before this one died with these jobs in flight (unless it stopped on purpose).
                if !stopped { for t in inFlight.keys { crashes[t]?.count += 1 } }
                stopped = false
            case .run, .lost:
                break
            }
        }
        // And the session that wrote the journal's end, unless it ended or stopped.
        if !stopped && !ended { for t in inFlight.keys { crashes[t]?.count += 1 } }
        let interrupted = inFlight.values.sorted { $0.trial < $1.trial }
        c.requeued = interrupted
        return Replay(coordinator: c, lastTime: lastTime, ended: ended, interrupted: interrupted, stoppedOnPurpose: stopped,
                      crashes: crashes.filter { inFlight[$0.key] != nil })
    }
}

// MARK: Stopping at a target

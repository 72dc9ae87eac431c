import CohortFiles
import Foundation
import CohortCluster

/// The job farm: rank 0 coordinates, ranks 1..N-1 train.
///
/// Protocol (every message is one JSON object as UTF-8 bytes):
///
/// 1. Each worker sends `{"kind":"ready"}` on ``JobFarm/toCoordinator`` as soon as it
///    starts, and then only ever blocks waiting for one assignment from rank 0.
/// 2. The coordinator keeps a queue of idle workers. For each idle worker it asks the
///    ``FarmCoordinator`` for an assignment. A `run` assignment's `start` event is
///    appended to the journal (and flushed) *before* the job is sent as
///    `{"kind":"run","job":{...}}` on ``JobFarm/toWorker``. A `wait` assignment leaves
///    the worker in the idle queue without a message: it stays blocked (sleeping)
///    until a later result makes work. A `stop` assignment is sent as
///    `{"kind":"stop"}` and the worker is done.
/// 3. The worker builds the trainable, restores the checkpoint named by the job's
///    `resume_from` (pause and resume), trains to the job's resource, evaluates,
///    saves its checkpoint into the shared run directory, and sends
///    `{"kind":"result","trial":T,"rung":K,"metric":M,"seconds":S}`, or
///    `{"kind":"result",...,"failed":"reason"}` if training threw or the metric is not
///    finite. A result is also the worker's request for its next job.
/// 4. The coordinator never waits on one worker: it probes for a message from *any*
///    source, sleeping between polls. On a result it journals `result`/`failed`,
///    tells the scheduler, and puts the worker back in the idle queue; it takes every
///    message already waiting, then goes to step 2. A message to a worker leaves only
///    once the journal lines written before it are durable: a background fsync covers
///    every line written since the last one began, while the coordinator goes on
///    taking results and deciding (group commit).
/// 5. Between polls it checks deadlines: a job running longer than the farm's
///    `job_timeout` marks its worker lost (journal `lost`), and the job goes back to
///    the front of the queue for the next free worker. A lost worker that answers
///    after all is taken back; its late result is kept if the job had not finished
///    elsewhere, and ignored otherwise.
/// 6. When the scheduler is finished and nothing runs, every active worker gets
///    `stop`, the journal gets `end`, and all ranks return. A run killed at any point
///    (even SIGKILL of mpirun) resumes from the journal: jobs started and not
///    answered run again first, finished results are kept.
public enum JobFarm {
    /// Tag of worker -> coordinator messages (ready, result).
    public static let toCoordinator = 101
    /// Tag of coordinator -> worker messages (run, stop).
    public static let toWorker = 102

    // MARK: Messages

    static func send(_ json: JSONValue, to rank: Int, tag: Int, over comm: Communicator) throws {
        try comm.send(Array(json.description.utf8), to: rank, tag: tag)
    }

    static func receive(from source: Int?, tag: Int, over comm: Communicator) throws -> (JSONValue, Int) {
        let (bytes, info) = try comm.receive(UInt8.self, from: source, tag: tag)
        do {
            return (try JSONValue.parse(String(decoding: bytes, as: UTF8.self)), info.source)
        } catch {
            throw TuneError.protocolViolation("unreadable message from rank \(info.source): \(error)")
        }
    }

    static func jobJSON(_ job: Job) -> JSONValue {
        var m: [(key: String, value: JSONValue)] = [("trial", .int(job.trial)), ("bracket", .int(job.bracket)), ("rung", .int(job.rung)),
                                                    ("resource", .double(job.resource)), ("config", job.config.json)]
        if let r = job.resumeFrom { m.append(("resume_from", .double(r))) }
        return .object(m)
    }

    static func job(from json: JSONValue, space: SearchSpace) throws -> Job {
        guard let trial = json["trial"]?.intValue, let rung = json["rung"]?.intValue, let resource = json["resource"]?.doubleValue,
              let config = json["config"] else { throw TuneError.protocolViolation("job message without trial, rung, resource or config") }
        return Job(trial: trial, config: try space.config(from: config), bracket: json["bracket"]?.intValue ?? 0,
                   rung: rung, resource: resource, resumeFrom: json["resume_from"]?.doubleValue)
    }

    // MARK: Worker

    /// The worker loop (ranks 1...N-1). Returns when told to stop.
    ///
    /// With a `group` (`farm.ranks_per_trial` > 1) only its leader (group rank 0) talks
    /// to the coordinator: it passes every assignment on to the group by a broadcast,
    /// every member trains the job together over the group, and the leader answers.
    public static func work(comm: Communicator, space: SearchSpace, factory: any TrainableFactory, run: RunDirectory,
                            deviceEnvironment: [String: String] = [:], group: Communicator? = nil) throws {
        defer { factory.workerWillStop() }
        let group = group.flatMap { $0.size > 1 ? $0 : nil }
        let leads = (group?.rank ?? 0) == 0
        if leads { try send(.object([("kind", .string("ready"))]), to: 0, tag: toCoordinator, over: comm) }
        while true {
            var message: JSONValue
            if let group, !leads {
                let text: [String] = try group.broadcast(message: nil, root: 0)
                do { message = try JSONValue.parse(text.first ?? "") } catch {
                    throw TuneError.protocolViolation("unreadable assignment from the group's leader: \(error)")
                }
            } else {
                message = try receive(from: 0, tag: toWorker, over: comm).0
                if let group { _ = try group.broadcast(message: [message.description], root: 0) }
            }
            guard message["kind"]?.stringValue == "run", let jobJSON = message["job"] else { return }
            let job = try job(from: jobJSON, space: space)
            let started = Date()
            let context = JobContext(job: job, run: run, worker: comm.rank, deviceEnvironment: deviceEnvironment, group: group)
            let report = execute(context, factory: factory)
            guard leads else { continue }
            var reply: [(key: String, value: JSONValue)] = [("kind", .string("result")), ("trial", .int(job.trial)), ("rung", .int(job.rung))]
            switch report.outcome {
            case let .metric(m): reply.append(("metric", .double(m)))
            case let .failed(reason): reply.append(("failed", .string(reason)))
            }
            if !report.metrics.isEmpty { reply.append(("metrics", .object(report.metrics.sorted { $0.key < $1.key }.map { ($0.key, .double($0.value)) }))) }
            if report.retry { reply.append(("retry", .bool(true))) }
            reply.append(("seconds", .double(Date().timeIntervalSince(started))))
            try send(.object(reply), to: 0, tag: toCoordinator, over: comm)
        }
    }

    /// What a worker reports of one job.
    public struct JobReport: Equatable, Sendable {
        public var outcome: TrialResult.Outcome
        /// Extra numeric results, journaled with the metric.
        public var metrics: [String: Double] = [:]
        /// The job timed out and asks to run once more elsewhere.
        public var retry = false
    }

    /// Runs one job: restore, train, evaluate, save. Every error is the job's failure,
    /// never the worker's.
    public static func execute(_ job: Job, factory: any TrainableFactory, run: RunDirectory) -> TrialResult.Outcome {
        execute(JobContext(job: job, run: run, worker: 0), factory: factory).outcome
    }

    public static func execute(_ context: JobContext, factory: any TrainableFactory) -> JobReport {
        var trainable: (any Trainable)?
        let outcome = executeSteps(context, factory: factory) { trainable = $0 }
        let reported = trainable as? ReportingTrainable
        var report = JobReport(outcome: outcome, metrics: reported?.extraMetrics ?? [:])
        if case .failed = outcome { report.retry = reported?.asksRetry ?? false }
        return report
    }

    private static func executeSteps(_ context: JobContext, factory: any TrainableFactory, made: (any Trainable) -> Void) -> TrialResult.Outcome {
        let job = context.job, run = context.run
        do {
            let trainable = try factory.make(for: context)
            made(trainable)
            if let from = job.resumeFrom {
                try trainable.restore(from: run.checkpoint(trial: job.trial, resource: from), resource: from)
            }
            try trainable.train(to: job.resource)
            let metric = try trainable.evaluate()
            guard metric.isFinite else { return .failed("metric is \(metric)") }
            if factory.writesCheckpoints && context.savesCheckpoint {
                let url = run.checkpoint(trial: job.trial, resource: job.resource)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try trainable.save(to: url)
            }
            return .metric(metric)
        } catch {
            return .failed(String(describing: error))
        }
    }
}

// MARK: Coordinator

/// Rank 0's side of the farm: the loop of steps 2, 4, 5 and 6 above, and the stop.
///
/// Stop: once ``StopRequest`` has seen SIGTERM, SIGINT or SIGUSR1, nothing new starts;
/// idle workers are told to stop, jobs in flight get `stopGrace` seconds to answer
/// (their results are journaled as usual), then the journal gets `stop` and `run`
/// returns that event. Jobs still in flight then run again on `--resume`; their
/// workers are listed in ``unfinishedWorkers``.
public final class FarmCoordinatorLoop {
    public var coordinator: FarmCoordinator
    let comm: Communicator
    let journal: JournalSink
    let space: SearchSpace
    let jobTimeout: JobTimeout?
    /// Seconds in-flight jobs may take to answer after a stop request.
    public var stopGrace: Double = 20
    /// Whether a signal recorded by ``StopRequest`` stops the farm.
    public var stopsOnSignal = true
    /// Seconds of run time already spent before this process started (resume).
    let timeOffset: Double
    let clockStart = Date()
    /// Called about once a second with the coordinator, for a progress line.
    var onTick: ((FarmCoordinator, Double) -> Void)?
    public private(set) var lostWorkers = Set<Int>()
    /// Workers that may still be training when `run` returns: declared lost and
    /// never heard from again, or still busy when a stop's grace ran out. Only
    /// ending the job (`MPI_Abort`) ends them.
    public var unfinishedWorkers: Set<Int> { lostWorkers.union(abandoned) }
    private var abandoned = Set<Int>()
    /// Busy seconds per worker in this session, for the busy fraction.
    public private(set) var sessionBusy: [Int: Double] = [:]

    /// The ranks jobs are sent to: every other rank, or the groups' leaders.
    let workers: [Int]

    public init(coordinator: FarmCoordinator, comm: Communicator, journal: JournalSink, space: SearchSpace,
                jobTimeout: JobTimeout?, timeOffset: Double, workers: [Int]? = nil) {
        self.workers = workers ?? Array(1..<comm.size)
        self.coordinator = coordinator
        self.comm = comm
        self.journal = journal
        self.space = space
        self.jobTimeout = jobTimeout
        self.timeOffset = timeOffset
    }

    public var now: Double { timeOffset + Date().timeIntervalSince(clockStart) }
    public var sessionSeconds: Double { Date().timeIntervalSince(clockStart) }

    private var active = Set<Int>()
    private var idle: [Int] = []
    private var stopped = Set<Int>()
    private var stopping: (since: Date, signal: String)?
    private var lastCheck = Date.distantPast
    /// Jobs that timed out once and were sent again (`on_timeout: retry`).
    private var retried = Set<TrialRung>()
    struct TrialRung: Hashable { var trial: Int; var rung: Int }

    /// Messages decided and not yet sent, in order: each waits for the journal lines
    /// written before it to be durable (the journal's ticket), so no worker acts on a
    /// decision a crash could lose, while the coordinator goes on taking results.
    private var outbox: [(ticket: UInt64, worker: Int, message: JSONValue)] = []

    private func send(_ kind: String, job: Job? = nil, to worker: Int) throws {
        var m: [(key: String, value: JSONValue)] = [("kind", .string(kind))]
        if let job { m.append(("job", JobFarm.jobJSON(job))) }
        outbox.append((journal.commitSoon(), worker, .object(m)))
    }

    /// Sends the messages whose journal lines are durable, waiting up to `microseconds`
    /// for the first. True if it sent any.
    @discardableResult
    private func deliver(waiting microseconds: UInt32 = 0) throws -> Bool {
        var sent = 0
        while sent < outbox.count, try journal.waitDurable(outbox[sent].ticket, microseconds: sent == 0 ? microseconds : 0) {
            try JobFarm.send(outbox[sent].message, to: outbox[sent].worker, tag: JobFarm.toWorker, over: comm)
            sent += 1
        }
        outbox.removeFirst(sent)
        return sent > 0
    }

    /// Commits the journal and sends everything still waiting (the stop and the end).
    private func deliverAll() throws {
        try journal.commit()
        try deliver()
    }

    private func tell(_ worker: Int) throws {
        try send("stop", to: worker)
        active.remove(worker)
        stopped.insert(worker)
    }

    /// Step 5 and the stop request, at most once a second whether or not messages
    /// keep arriving: lost workers, the progress line, a signal. True when something
    /// changed that the outer loop must act on.
    private func checkClock() throws -> Bool {
        guard Date().timeIntervalSince(lastCheck) >= 1 else { return false }
        lastCheck = Date()
        onTick?(coordinator, now)
        var changed = false
        if let timeout = jobTimeout {
            for w in coordinator.overdue(now: now, limit: timeout.limit(for:)) {
                let reason = coordinator.running[w].map { timeout.reason(for: $0.job) } ?? ""
                if let e = coordinator.lose(worker: w, reason: reason, now: now) {
                    try journal.append(e)
                    lostWorkers.insert(w)
                    active.remove(w)
                    changed = true
                }
            }
        }
        if stopping == nil, stopsOnSignal, let signal = StopRequest.signalName {
            stopping = (Date(), signal)
            changed = true
        }
        if let stopping, Date().timeIntervalSince(stopping.since) >= stopGrace { changed = true }
        // A time limit can end the search while workers wait.
        if !idle.isEmpty && coordinator.running.isEmpty { changed = true }
        return changed || (!idle.isEmpty && !coordinator.requeued.isEmpty)
    }

    /// Runs the farm until the search is finished (returns the `end` event written)
    /// or a stop request has been served (returns the `stop` event written).
    @discardableResult
    public func run(endReason: String = "budget spent") throws -> JournalEvent {
        active = Set(workers)
        let backoff = Backoff(spins: 50, firstSleep: 20, maxSleep: 2_000)

        while true {
            _ = try checkClock()
            // Step 2: serve idle workers in arrival order; after a stop request, stop them.
            var stillIdle: [Int] = []
            for w in idle {
                if stopping != nil { try tell(w); continue }
                let (assignment, event) = coordinator.assign(worker: w, now: now)
                if let event { try journal.append(event) }
                switch assignment {
                case let .run(job): try send("run", job: job, to: w)
                case .wait: stillIdle.append(w)
                case .stop: try tell(w)
                }
            }
            idle = stillIdle
            if let stopping, coordinator.running.isEmpty || Date().timeIntervalSince(stopping.since) >= stopGrace {
                abandoned = Set(coordinator.running.keys)
                // Workers not yet heard from (or between jobs) are told too.
                for w in active.sorted() where !stopped.contains(w) && coordinator.running[w] == nil { try tell(w) }
                let event = JournalEvent.stop(time: now, reason: stopping.signal, inFlight: coordinator.running.count)
                try journal.append(event)
                try deliverAll()
                return event
            }
            if active.isEmpty && !coordinator.isIdle {
                throw TuneError.ranks("every worker was lost with work outstanding; the journal is intact: continue with --resume")
            }
            // Step 6: done when the search is finished and every active worker is stopped.
            if active.isEmpty || (coordinator.isIdle && active.allSatisfy({ idle.contains($0) }) && coordinator.isFinished(now: now)) {
                // Lost workers hear it too, in case they come back.
                for w in active.union(lostWorkers).sorted() where !stopped.contains(w) { try tell(w) }
                break
            }

            // Step 4: wait for any worker, checking the clock between polls.
            var attempt = 0
            var sleep = backoff.firstSleep
            var info: MessageInfo? = nil
            while info == nil {
                // A message sent makes an answer likely soon: poll tightly again.
                if try deliver() { attempt = 0; sleep = backoff.firstSleep }
                info = try comm.iprobe(from: nil, tag: JobFarm.toCoordinator)
                if try info != nil || checkClock() { break }
                attempt += 1
                if attempt > backoff.spins {
                    if outbox.isEmpty { usleep(sleep) } else if try deliver(waiting: sleep) {
                        attempt = 0; sleep = backoff.firstSleep; continue
                    }
                    sleep = Swift.min(backoff.maxSleep, sleep &* 2)
                }
            }
            // Every message already waiting is taken before the next assignments, so
            // one journal commit covers all their results (group commit).
            var waiting = info
            while let next = waiting {
                try handle(next)
                waiting = try comm.iprobe(from: nil, tag: JobFarm.toCoordinator)
            }
        }
        let end = coordinator.endEvent(now: now, reason: coordinator.endReason(otherwise: endReason))
        try journal.append(end)
        try deliverAll()
        return end
    }

    /// Step 4 for one message: a worker's `ready` or `result`.
    private func handle(_ info: MessageInfo) throws {
        let (message, source) = try JobFarm.receive(from: info.source, tag: JobFarm.toCoordinator, over: comm)
        if lostWorkers.contains(source) {
            lostWorkers.remove(source)
            active.insert(source)
        }
        switch message["kind"]?.stringValue {
        case "ready":
            idle.append(source)
        case "result":
            guard let trial = message["trial"]?.intValue, let rung = message["rung"]?.intValue else {
                throw TuneError.protocolViolation("result from rank \(source) without trial or rung")
            }
            let seconds = message["seconds"]?.doubleValue ?? 0
            let result: TrialResult
            if let m = message["metric"]?.doubleValue {
                result = .metric(trial: trial, rung: rung, m)
            } else {
                result = .failed(trial: trial, rung: rung, message["failed"]?.stringValue ?? "failed")
            }
            if let started = coordinator.running[source]?.since {
                sessionBusy[source, default: 0] += Swift.max(0, now - Swift.max(started, timeOffset))
            }
            if let event = coordinator.reclaim(worker: source, answering: result, now: now) { try journal.append(event) }
            let key = TrialRung(trial: trial, rung: rung)
            if message["retry"]?.boolValue == true, !retried.contains(key), coordinator.running[source]?.job.trial == trial,
               coordinator.running[source]?.job.rung == rung {
                // on_timeout: retry. The job goes back to the front of the queue,
                // and this worker to the back of the idle ones, so another takes it.
                retried.insert(key)
                let reason = (message["failed"]?.stringValue ?? "timed out").split(separator: "\n").first.map(String.init) ?? ""
                if let event = coordinator.lose(worker: source, reason: "\(reason); running it once more (on_timeout: retry)", now: now) {
                    try journal.append(event)
                }
            } else if let event = try coordinator.complete(worker: source, result: result, seconds: seconds, now: now,
                                                           metrics: JournalEvent.metrics(message["metrics"])) {
                try journal.append(event)
            }
            idle.append(source)
        default:
            throw TuneError.protocolViolation("unknown message from rank \(source): \(message)")
        }
    }
}

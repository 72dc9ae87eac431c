import CohortFiles
import Foundation
import CohortTensor

/// The shape of a simulated cluster: how many workers, how their jobs straggle, how
/// often a job is lost, and how long the farm waits before declaring it lost.
public struct SimulatedClusterSpec: Equatable, Sendable {
    public var workers: Int
    public var stragglers: StragglerModel
    /// Probability that a job never answers (its worker died): the coordinator
    /// notices after `jobTimeout`, declares the worker lost and queues the job again.
    public var dropProbability: Double
    /// The farm's `job_timeout` in virtual seconds (`nil`: jobs are never declared lost).
    public var jobTimeout: JobTimeout?
    /// Seeds slow-downs and drops, which are drawn per (trial, rung, attempt), so a
    /// given job straggles the same way whichever worker runs it and whenever.
    public var seed: UInt64
    /// Seconds every job costs besides training: the round trip of the job and its
    /// answer, the journal write, restoring and saving the checkpoint. The answer
    /// arrives this much after the training ends; the worker's reported `seconds`
    /// stay the training time.
    public var jobOverhead: Double

    public init(workers: Int, stragglers: StragglerModel = .none, dropProbability: Double = 0, jobTimeout: JobTimeout? = nil,
                seed: UInt64 = 0, jobOverhead: Double = 0) {
        self.workers = workers
        self.stragglers = stragglers
        self.dropProbability = dropProbability
        self.jobTimeout = jobTimeout
        self.seed = seed
        self.jobOverhead = jobOverhead
    }

    /// Throws the first setting that cannot be simulated.
    public func validate() throws {
        guard workers >= 1 && workers <= 1_000_000 else { throw SimulationError.badCluster("--simulate-workers must be from 1 to 1000000, got \(workers)") }
        guard dropProbability >= 0, dropProbability < 1 else {
            throw SimulationError.badCluster("--drop-probability must be in [0, 1), got \(dropProbability)")
        }
        guard jobOverhead >= 0, jobOverhead.isFinite else {
            throw SimulationError.badCluster("--job-overhead must be a non-negative number of seconds, got \(jobOverhead)")
        }
        if dropProbability > 0 && jobTimeout == nil {
            throw SimulationError.badCluster("dropped jobs are noticed only through farm.job_timeout: set it in the config to simulate --drop-probability")
        }
    }

    /// The settings as written to `simulation.json`.
    public var json: JSONValue {
        .object([("workers", .int(workers)), ("stragglers", .string(stragglers.description)),
                 ("drop_probability", .number(dropProbability)), ("job_timeout", jobTimeout.map { JSONValue.number($0.fixed) } ?? .null),
                 ("job_timeout_per_unit", jobTimeout.map { JSONValue.number($0.perUnit) } ?? .null),
                 ("job_overhead", .number(jobOverhead)),
                 ("seed", .int(Int(bitPattern: UInt(seed))))])
    }
}

/// A discrete-event simulation of the job farm: the same ``FarmCoordinator`` (and so
/// the same scheduler) the MPI farm runs, driven by a virtual clock instead of
/// ranks and sleeping.
///
/// It mirrors ``FarmCoordinatorLoop`` step by step: free workers are served in the
/// order they became free; a `wait` leaves a worker idle until the next result; a
/// job that has not answered within `job_timeout` gets its worker declared lost and
/// goes back to the front of the queue; a lost worker that answers late is taken
/// back and its answer is kept only if the job was not finished elsewhere. A job
/// takes its trainable's unloaded duration times a straggler slow-down; a dropped
/// job never answers, and once its loss is noticed a replacement worker takes the
/// dead one's place. Events at equal times are handled in the order they were
/// scheduled, so a run is a pure function of its inputs.
public struct SimulatedCluster {
    public let spec: SimulatedClusterSpec
    public let factory: any SimulatableTrainableFactory

    public init(spec: SimulatedClusterSpec, factory: any SimulatableTrainableFactory) {
        self.spec = spec
        self.factory = factory
    }

    /// What a simulated run did.
    public struct Outcome: Sendable {
        public var coordinator: FarmCoordinator
        public var end: JournalEvent.End
        /// Virtual seconds each worker spent on jobs.
        public var busySeconds: [Int: Double]
        /// Jobs that never answered.
        public var droppedJobs: Int
        /// Times a worker was declared lost (dropped jobs and stragglers past the timeout).
        public var losses: Int
        /// Whether `stop` ended the run before its budget was spent.
        public var stoppedEarly: Bool

        /// The fraction of the run each worker was busy.
        public func busyFraction(workers: Int) -> [Int: Double] {
            var out: [Int: Double] = [:]
            for w in 1...Swift.max(1, workers) { out[w] = end.time > 0 ? Swift.min(1, (busySeconds[w] ?? 0) / end.time) : 0 }
            return out
        }
    }

    // MARK: Events

    private enum Happening {
        /// The worker's answer arrives.
        case answer(worker: Int, job: Job, outcome: TrialResult.Outcome, seconds: Double)
        /// The job dispatched as `dispatch` reaches the farm's timeout.
        case deadline(worker: Int, dispatch: Int, dropped: Bool)
    }

    private struct JobKey: Hashable { var trial: Int; var rung: Int }

    /// Runs the farm until the scheduler is finished, or until `stop` returns true for
    /// a journaled event (the run then ends with `stopReason`). Every event goes to
    /// `journal` in the order the real coordinator would write it.
    public func run(coordinator start: FarmCoordinator, journal: JournalSink, endReason: String = "budget spent",
                    stopReason: String = "stopped", stop: ((JournalEvent) -> Bool)? = nil) throws -> Outcome {
        try spec.validate()
        var coordinator = start
        var queue = EventQueue<Happening>()
        var now = 0.0
        var idle = Array(1...spec.workers)
        var active = Set(idle)
        var lost = Set<Int>()
        var dispatchCount = 0
        var currentDispatch: [Int: Int] = [:]        // worker -> serial of its job
        var attempts: [JobKey: Int] = [:]
        var dropped = 0, losses = 0
        var stoppedEarly = false

        func write(_ event: JournalEvent) throws -> Bool {
            try journal.append(event)
            return stop?(event) ?? false
        }

        func dispatch(_ job: Job, to worker: Int) {
            dispatchCount += 1
            currentDispatch[worker] = dispatchCount
            let key = JobKey(trial: job.trial, rung: job.rung)
            let attempt = attempts[key, default: 0]
            attempts[key] = attempt + 1
            var rng = RandomStream(seed: spec.seed, stream: [Self.stream, UInt64(job.trial), UInt64(job.rung), UInt64(attempt)])
            let isDropped = spec.dropProbability > 0 && rng.uniformDouble() < spec.dropProbability
            let slowdown = spec.stragglers.slowdown(&rng)
            if isDropped {
                dropped += 1
            } else {
                let simulated = factory.simulate(job)
                let seconds = simulated.seconds * slowdown
                queue.push(at: now + seconds + spec.jobOverhead, .answer(worker: worker, job: job, outcome: simulated.outcome, seconds: seconds))
            }
            if let timeout = spec.jobTimeout {
                queue.push(at: now + timeout.limit(for: job), .deadline(worker: worker, dispatch: dispatchCount, dropped: isDropped))
            }
        }

        farm: while true {
            // Step 2 of the farm protocol: serve idle workers in arrival order.
            // A `wait` changes nothing, so every worker after it would hear `wait`
            // too: they stay idle without asking (the real loop asks; same answers).
            var stillIdle: [Int] = []
            serving: for (i, w) in idle.enumerated() {
                let (assignment, event) = coordinator.assign(worker: w, now: now)
                if let event, try write(event) {
                    stoppedEarly = true
                    break farm
                }
                switch assignment {
                case let .run(job): dispatch(job, to: w)
                case .wait:
                    stillIdle += idle[i...]
                    break serving
                case .stop: active.remove(w)
                }
            }
            idle = stillIdle
            if active.isEmpty && !coordinator.isIdle {
                throw TuneError.ranks("every simulated worker was lost with work outstanding")
            }
            // Step 6: finished when nothing runs and the scheduler has nothing to give.
            if active.isEmpty || (coordinator.isIdle && idle.count == active.count && coordinator.isFinished(now: now)) { break }

            // Step 4: the next thing that happens.
            var handled = false
            while !handled {
                guard let (time, happening) = queue.pop() else { throw SimulationError.stalled(now) }
                switch happening {
                case let .answer(w, job, outcome, seconds):
                    now = time
                    if lost.remove(w) != nil { active.insert(w) }
                    let result = TrialResult(trial: job.trial, rung: job.rung, outcome: outcome)
                    if let event = try coordinator.complete(worker: w, result: result, seconds: seconds, now: now), try write(event) {
                        stoppedEarly = true
                        break farm
                    }
                    if active.contains(w) { idle.append(w) }
                    handled = true
                case let .deadline(w, serial, isDropped):
                    // Only the deadline of the job the worker still runs counts.
                    guard currentDispatch[w] == serial, let running = coordinator.running[w]?.job else { continue }
                    now = time
                    let reason = spec.jobTimeout?.reason(for: running) ?? "no answer"
                    if let event = coordinator.lose(worker: w, reason: reason, now: now) {
                        losses += 1
                        if try write(event) { stoppedEarly = true; break farm }
                    }
                    if isDropped {
                        // The dead worker's replacement joins.
                        idle.append(w)
                    } else {
                        lost.insert(w)
                        active.remove(w)
                    }
                    handled = true
                }
            }
        }
        let end = coordinator.endEvent(now: now, reason: stoppedEarly ? stopReason : coordinator.endReason(otherwise: endReason))
        try journal.append(end)
        guard case let .end(e) = end else { fatalError("endEvent returns .end") }
        return Outcome(coordinator: coordinator, end: e, busySeconds: coordinator.busySeconds, droppedJobs: dropped,
                       losses: losses, stoppedEarly: stoppedEarly)
    }

    static let stream: UInt64 = 0x5349_4D55_4C41_5445 // "SIMULATE"
}

// MARK: Event queue

/// A min-heap of timed events; equal times come out in the order they went in.
/// The heap moves plain (time, serial, slot) triples; the events themselves (jobs
/// with their configurations) stay put in slots until popped.
struct EventQueue<Element> {
    private struct Entry { var time: Double; var serial: Int; var slot: Int }
    private var heap: [Entry] = []
    private var slots: [Element?] = []
    private var freeSlots: [Int] = []
    private var serial = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    mutating func push(at time: Double, _ element: Element) {
        serial += 1
        let slot: Int
        if let s = freeSlots.popLast() { slots[s] = element; slot = s } else { slots.append(element); slot = slots.count - 1 }
        heap.append(Entry(time: time, serial: serial, slot: slot))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard earlier(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (time: Double, element: Element)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count, earlier(heap[l], heap[m]) { m = l }
            if r < heap.count, earlier(heap[r], heap[m]) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
        let element = slots[top.slot]!
        slots[top.slot] = nil
        freeSlots.append(top.slot)
        return (top.time, element)
    }

    private func earlier(_ a: Entry, _ b: Entry) -> Bool {
        a.time != b.time ? a.time < b.time : a.serial < b.serial
    }
}

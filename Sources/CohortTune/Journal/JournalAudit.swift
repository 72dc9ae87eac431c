import CohortFiles
import Foundation

/// Checks a journal against the rules of successive halving, independently of the
/// scheduler code that wrote it.
///
/// For ASHA and asynchronous Hyperband (each bracket on its own), at every `start`:
/// - a promotion to rung k+1 takes a trial whose rung-k result is among the top
///   floor(|rung k| / eta) results recorded *before that line*, that has not been
///   promoted before and did not fail; it comes from the highest rung that had a
///   candidate (the scan from the top), and no better-ranked candidate of that rung
///   was passed over;
/// - a new trial starts only when no rung of its bracket had a candidate;
/// - resources are r * eta^(k+s), and promotions resume from the previous rung's.
/// For synchronous SHA and Hyperband: a promotion out of rung k happens only after
/// every job of rung k has reported, and takes one of the top floor(n_k / eta); a new
/// trial's id is among the next ``SuccessiveHalvingScheduler/preferenceWindow`` not
/// started (elsewhere: the next id).
/// For every scheduler: each (trial, rung) is answered at most once, a job is
/// started again only after it was declared lost or the run resumed, and a journal
/// that ends with `end` has nothing left in flight.
public enum JournalAudit {
    public struct Violation: Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// One rung as the audit sees it: results ranked best first, and the successful
    /// ones not promoted yet, so that "the top floor(n/eta)" and "the best candidate"
    /// are binary searches even in journals of a hundred thousand trials.
    private struct AuditRung {
        var ranked: RungResults
        var open: RungResults
        var byTrial: [Int: RungRecord] = [:]
        init(mode: MetricMode) { ranked = RungResults(mode: mode); open = ranked }

        var count: Int { ranked.count }
        func entry(_ trial: Int) -> RungRecord? { byTrial[trial] }
        /// Results ranked ahead of `trial`'s.
        func rank(_ trial: Int) -> Int? { byTrial[trial].map { ranked.rank(of: $0) } }

        mutating func add(trial: Int, metric: Double?) {
            let r = RungRecord(trial: trial, metric: metric)
            ranked.insert(r)
            if metric != nil { open.insert(r) }
            byTrial[trial] = r
        }

        mutating func markPromoted(_ trial: Int) {
            guard var r = byTrial[trial], !r.promoted else { return }
            ranked.setPromoted(at: ranked.rank(of: r))
            if r.metric != nil { open.remove(at: open.rank(of: r)) }
            r.promoted = true
            byTrial[trial] = r
        }

        /// The best successful, unpromoted result, if it is in the top floor(n/eta).
        func firstCandidate(eta: Int) -> Int? {
            guard let best = open.first, ranked.rank(of: best) < count / eta else { return nil }
            return best.trial
        }

        /// Every candidate, best first (for messages only: it walks the top of the rung).
        func candidates(eta: Int) -> [Int] {
            ranked.prefix(count / eta).filter { !$0.promoted && $0.metric != nil }.map(\.trial)
        }
    }

    public static func check(_ events: [JournalEvent], spec: SchedulerSpec, mode: MetricMode) -> [Violation] {
        var violations: [Violation] = []
        func fail(_ line: Int, _ message: String) { violations.append(Violation(line: line, message: message)) }

        // Rungs per bracket, entries in arrival order.
        var rungs: [Int: [AuditRung]] = [:]
        var ladders: [Int: RungLadder] = [:]
        var dispatched: [Int: [Int]] = [:]            // bracket -> jobs started per rung (SHA barrier)
        var inFlight: [Int: Int] = [:]                // trial -> rung
        var answered = Set<[Int]>()                   // [trial, rung]
        var mayRedispatch = Set<[Int]>()              // [trial, rung] lost or interrupted
        var trialBracket: [Int: Int] = [:]
        var nextTrial = 0                             // the lowest id not started
        var startedAbove = Set<Int>()                 // ids started at or above it

        func ladder(_ b: Int) -> RungLadder {
            if let l = ladders[b] { return l }
            let s: Int
            switch spec.kind {
            case .asyncHyperband: s = spec.earlyStoppingRate + b
            case .hyperband:
                let plan = SuccessiveHalvingScheduler.hyperbandPlan(minResource: spec.minResource, maxResource: spec.maxResource,
                                                                    eta: spec.eta, minimumRate: spec.earlyStoppingRate)
                s = plan[b % plan.count].earlyStoppingRate
            default: s = spec.earlyStoppingRate
            }
            let l = spec.kind == .random
                ? RungLadder(minResource: spec.maxResource, maxResource: spec.maxResource, eta: spec.eta)
                : spec.ladder(forBracketRate: s)
            ladders[b] = l
            rungs[b] = Array(repeating: AuditRung(mode: mode), count: l.rungCount)
            dispatched[b] = Array(repeating: 0, count: l.rungCount)
            return l
        }
        func hasCandidate(_ b: Int, _ k: Int, eta: Int) -> Bool { rungs[b]![k].firstCandidate(eta: eta) != nil }
        let asynchronous = spec.kind == .asha || spec.kind == .asyncHyperband

        for (index, event) in events.enumerated() {
            let line = index + 1
            switch event {
            case let .start(s):
                let job = s.job, b = job.bracket, k = job.rung
                let l = ladder(b)
                guard k >= 0, k < l.rungCount else { fail(line, "trial \(job.trial): rung \(k) does not exist in bracket \(b)"); continue }
                let key = [job.trial, k]
                if let current = inFlight[job.trial] {
                    if current == k && mayRedispatch.contains(key) { mayRedispatch.remove(key); continue }
                    fail(line, "trial \(job.trial) started rung \(k) while rung \(current) was still running")
                    continue
                }
                if answered.contains(key) { fail(line, "trial \(job.trial) rung \(k) started again after it was answered"); continue }
                let expected = spec.kind == .random ? spec.maxResource : l.resource(rung: k)
                if abs(job.resource - expected) > 1e-9 * expected {
                    fail(line, "trial \(job.trial) rung \(k) trains to \(job.resource), the rung's resource is \(expected)")
                }
                if k == 0 {
                    // Ids start in order, except that a synchronous bracket's rung 0 may
                    // take any of the next few (a preference: affinity).
                    let window = asynchronous || spec.kind == .random ? 1 : SuccessiveHalvingScheduler.preferenceWindow
                    if trialBracket[job.trial] != nil {
                        fail(line, "new trial \(job.trial) was started before")
                    } else if job.trial < nextTrial || job.trial - nextTrial - startedAbove.filter({ $0 < job.trial }).count >= window {
                        fail(line, "new trial \(job.trial), expected id \(nextTrial)" + (window > 1 ? " or one of the \(window - 1) unstarted ids after it" : ""))
                    }
                    trialBracket[job.trial] = b
                    startedAbove.insert(job.trial)
                    while startedAbove.remove(nextTrial) != nil { nextTrial += 1 }
                    if job.resumeFrom != nil { fail(line, "new trial \(job.trial) resumes from a checkpoint") }
                    if asynchronous {
                        for j in 0..<(l.rungCount - 1) where hasCandidate(b, j, eta: l.eta) {
                            fail(line, "new trial \(job.trial) started in bracket \(b) while rung \(j) had promotable trials \(rungs[b]![j].candidates(eta: l.eta))")
                            break
                        }
                    }
                } else {
                    let from = k - 1
                    if trialBracket[job.trial] != b { fail(line, "trial \(job.trial) promoted in bracket \(b), it started in bracket \(trialBracket[job.trial].map(String.init) ?? "none")") }
                    guard let entry = rungs[b]![from].entry(job.trial), let rank = rungs[b]![from].rank(job.trial) else {
                        fail(line, "trial \(job.trial) promoted to rung \(k) without a result at rung \(from)")
                        continue
                    }
                    let rungSize = rungs[b]![from].count
                    if entry.promoted { fail(line, "trial \(job.trial) promoted out of rung \(from) twice") }
                    if entry.metric == nil { fail(line, "trial \(job.trial) promoted although it failed at rung \(from)") }
                    if job.resumeFrom.map({ abs($0 - l.resource(rung: from)) > 1e-9 }) ?? true {
                        fail(line, "trial \(job.trial) promoted to rung \(k) does not resume from its rung-\(from) checkpoint")
                    }
                    if asynchronous {
                        if rank >= rungSize / l.eta {
                            fail(line, "trial \(job.trial) promoted out of rung \(from) but is not in its top \(rungSize / l.eta) of \(rungSize)")
                        } else if let first = rungs[b]![from].firstCandidate(eta: l.eta), first != job.trial {
                            fail(line, "trial \(job.trial) promoted out of rung \(from) ahead of the better-ranked trial \(first)")
                        }
                        if from + 1 < l.rungCount - 1 {
                            for j in (from + 1)..<(l.rungCount - 1) where hasCandidate(b, j, eta: l.eta) {
                                fail(line, "trial \(job.trial) promoted out of rung \(from) while the higher rung \(j) had promotable trials")
                                break
                            }
                        }
                    } else {
                        let size = dispatched[b]![from]
                        if rungSize < size {
                            fail(line, "trial \(job.trial) promoted out of rung \(from) before all \(size) of its jobs reported (barrier)")
                        }
                        if rank >= Swift.min(size / l.eta, rungSize) { fail(line, "trial \(job.trial) is not in the top \(Swift.min(size / l.eta, rungSize)) of rung \(from)") }
                    }
                    rungs[b]![from].markPromoted(job.trial)
                }
                inFlight[job.trial] = k
                dispatched[b]![k] += 1
            case let .result(f), let .failed(f):
                let key = [f.trial, f.rung]
                if answered.contains(key) { fail(line, "trial \(f.trial) rung \(f.rung) answered twice"); continue }
                guard inFlight[f.trial] == f.rung else { fail(line, "trial \(f.trial) rung \(f.rung) answered but not running"); continue }
                inFlight[f.trial] = nil
                mayRedispatch.remove(key)
                answered.insert(key)
                _ = ladder(f.bracket)
                rungs[f.bracket]![f.rung].add(trial: f.trial, metric: f.metric)
            case let .lost(l):
                if inFlight[l.trial] == l.rung { mayRedispatch.insert([l.trial, l.rung]) }
                else { fail(line, "trial \(l.trial) rung \(l.rung) declared lost but not running") }
            case .resume:
                for (t, k) in inFlight { mayRedispatch.insert([t, k]) }
            case .end:
                if !inFlight.isEmpty { fail(line, "the run ended with jobs in flight: trials \(inFlight.keys.sorted())") }
            case .run, .stop:
                break
            }
        }
        return violations
    }
}

// MARK: Whole runs

extension JournalAudit {
    /// Audits a run directory: the legality rules above plus completeness, i.e. a
    /// finished run answered every job it started exactly once.
    public static func check(run: RunDirectory, catalog: TrainableCatalog = .standard) throws -> [Violation] {
        let config = try TuneConfig.load(contentsOf: run.configURL, catalog: catalog)
        let contents = try JournalContents.read(url: run.journalURL, space: config.space)
        var violations = check(contents.events, spec: config.scheduler, mode: config.mode)
        // Replaying through the scheduler must reproduce every decision.
        do {
            _ = try FarmCoordinator.replay(contents.events, scheduler: config.makeScheduler(), mode: config.mode, target: config.stopTarget)
        } catch {
            violations.append(Violation(line: 0, message: "\(error)"))
        }
        if case .end? = contents.events.last {} else {
            violations.append(Violation(line: contents.events.count, message: "the journal does not end with an end event (the run was interrupted)"))
        }
        return violations
    }
}

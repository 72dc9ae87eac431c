import Foundation

/// How a rank waits for something that is not there yet without holding a core.
///
/// Open MPI's blocking calls busy-poll, which on an oversubscribed node (8 ranks on 2
/// cores) starves the ranks doing real work. Cohort polls with a non-blocking test
/// instead: a short burst of tight polls keeps latency low when the answer is about to
/// arrive, then sleeps that double from `firstSleep` up to `maxSleep`, so a rank idle
/// for seconds costs almost no CPU and wakes within `maxSleep` of its message.
public struct Backoff {
    /// Tight polls before the first sleep.
    public var spins: Int
    /// First sleep, in microseconds.
    public var firstSleep: UInt32
    /// Longest sleep, in microseconds: the worst added wake-up latency.
    public var maxSleep: UInt32

    public init(spins: Int = 200, firstSleep: UInt32 = 20, maxSleep: UInt32 = 2_000) {
        self.spins = spins
        self.firstSleep = firstSleep
        self.maxSleep = maxSleep
    }

    /// The policy every communicator uses unless told otherwise. `COHORT_MAX_WAIT_SLEEP_US`
    /// overrides the longest sleep (e.g. lower it for latency-bound point-to-point work),
    /// `COHORT_WAIT_SPINS` the tight polls before the first sleep.
    public static let standard: Backoff = {
        var b = Backoff()
        if let raw = ProcessInfo.processInfo.environment["COHORT_MAX_WAIT_SLEEP_US"], let v = UInt32(raw), v > 0 {
            b.maxSleep = v
            b.firstSleep = min(b.firstSleep, v)
        }
        if let raw = ProcessInfo.processInfo.environment["COHORT_WAIT_SPINS"], let v = Int(raw), v >= 0 { b.spins = v }
        return b
    }()

    /// Calls `ready` until it returns a value, sleeping between attempts as described.
    @discardableResult
    public func wait<T>(until ready: () throws -> T?) rethrows -> T {
        var attempt = 0
        var sleep = firstSleep
        while true {
            if let value = try ready() { return value }
            attempt += 1
            if attempt > spins {
                usleep(sleep)
                sleep = min(maxSleep, sleep &* 2)
            }
        }
    }
}

import Foundation

/// When a search stops starting work: after `maxTrials` configurations and/or once
/// `timeLimit` seconds have passed since the run began. Jobs in flight when the
/// budget runs out still report (their results are kept); nothing new starts.
public struct Budget: Equatable, Sendable {
    public var maxTrials: Int?
    public var timeLimit: Double?

    public init(maxTrials: Int? = nil, timeLimit: Double? = nil) {
        self.maxTrials = maxTrials
        self.timeLimit = timeLimit
    }

    public var isUnbounded: Bool { maxTrials == nil && timeLimit == nil }

    public func timeIsUp(_ now: Double) -> Bool {
        if let timeLimit { return now >= timeLimit }
        return false
    }

    /// Whether one more configuration may start, given how many have.
    public func allowsNewTrial(started: Int) -> Bool {
        if let maxTrials { return started < maxTrials }
        return true
    }
}

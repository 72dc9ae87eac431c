import CohortFiles
import Foundation

/// Where a journal's events go: a file in a run, memory in tests and simulations.
public protocol JournalSink: AnyObject {
    func append(_ event: JournalEvent) throws
    /// Makes what was appended durable before it is acted on (group commit).
    func commit() throws
}

extension JournalSink {
    public func commit() throws {}
}

/// The run's journal file: each event on disk before the decision it records is
/// acted on (with `.synced` durability), so a run killed at any moment leaves a
/// journal that says exactly what was decided.
extension JournalWriter: JournalSink {
    public func append(_ event: JournalEvent) throws { try append(bytes: Data(event.line.utf8)) }
}

/// Keeps events in memory.
public final class MemoryJournal: JournalSink {
    public private(set) var events: [JournalEvent] = []
    public init() {}
    public func append(_ event: JournalEvent) throws { events.append(event) }
}

import CohortFiles
import Foundation

/// Where a journal's events go: a file in a run, memory in tests and simulations.
public protocol JournalSink: AnyObject {
    func append(_ event: JournalEvent) throws
    /// Makes what was appended durable before it is acted on (group commit).
    func commit() throws
    /// Starts making what was appended durable without waiting; the ticket names it.
    func commitSoon() -> UInt64
    /// Waits up to `microseconds` for the ticket's events to be durable; true once they are.
    func waitDurable(_ ticket: UInt64, microseconds: UInt32) throws -> Bool
}

/// Sinks that keep nothing on disk are durable at once.
extension JournalSink {
    public func commit() throws {}
    public func commitSoon() -> UInt64 { 0 }
    public func waitDurable(_ ticket: UInt64, microseconds: UInt32) throws -> Bool { true }
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

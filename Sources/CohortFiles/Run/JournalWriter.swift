import Foundation

/// Appends lines to a JSON Lines journal (`events.jsonl` and every other log a run
/// keeps). The one writer under every workload's journal: each line is written whole,
/// so a kill leaves at most a torn last line, which ``JSONLines`` drops on reading and
/// `truncatingTo` cuts before appending resumes.
public final class JournalWriter {
    /// How far each line goes before `append` returns.
    public enum Durability: Sendable {
        /// fsync'ed: survives the machine crashing. For decisions acted on next.
        case synced
        /// written to the file at once and fsync'ed by `commit()`, or in the background
        /// after `commitSoon()`: the caller acts on what it wrote only once it is
        /// durable, so one fsync covers every event written meanwhile (group commit).
        /// Survives a kill at once, a crash once committed.
        case grouped
        /// written to the file: survives the process being killed, not a crash.
        case written
        /// kept in memory and written a megabyte at a time, and by `flush()`: for
        /// simulated runs, where nothing acts on a decision before the next one.
        case buffered
    }

    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot write the journal \(path): \(reason)" }
    }

    public let url: URL
    public let durability: Durability
    private let handle: FileHandle
    private var buffer = Data()
    private var uncommitted = false
    /// Bytes appended in this session: the position a commit ticket names.
    private var appended: UInt64 = 0
    private var syncer: BackgroundSync?
    private static let chunk = 1 << 20

    /// Opens `url` for appending, creating it if needed; `truncatingTo` first cuts a
    /// torn last line left by a killed run; `replacing` starts the file empty.
    public init(url: URL, durability: Durability = .synced, truncatingTo length: UInt64? = nil, replacing: Bool = false) throws {
        self.url = url
        self.durability = durability
        if replacing || !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw WriteError(path: url.path, reason: "cannot create the file")
            }
            AtomicFile.syncDirectory(url.deletingLastPathComponent())
        }
        do {
            handle = try FileHandle(forWritingTo: url)
            if let length { try handle.truncate(atOffset: length) }
            try handle.seekToEnd()
        } catch {
            throw WriteError(path: url.path, reason: "cannot open it for writing (\(error.localizedDescription))")
        }
    }

    deinit {
        try? flush()
        syncer?.shutDown()
        try? handle.close()
    }

    /// Appends one line; `line` must not contain a newline (one is added).
    public func append(line: String) throws {
        var bytes = Data(line.utf8)
        bytes.append(0x0A)
        try append(bytes: bytes)
    }

    /// Appends one JSON value as a compact line.
    public func append(_ value: JSONValue) throws { try append(line: value.description) }

    /// Appends bytes that already end in a newline.
    public func append(bytes: Data) throws {
        if durability == .buffered {
            buffer.append(bytes)
            if buffer.count >= Self.chunk { try flush() }
            return
        }
        do {
            try handle.write(contentsOf: bytes)
            appended &+= UInt64(bytes.count)
            if durability == .synced { try handle.synchronize() }
            if durability == .grouped { uncommitted = true }
        } catch {
            throw WriteError(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Makes every line written so far durable (`.grouped`: one fsync for all of them;
    /// the other durabilities: nothing to do).
    public func commit() throws {
        if let syncer {
            // Also what earlier `commitSoon` calls asked for and is not yet on disk.
            let ticket = commitSoon()
            while try !syncer.wait(until: ticket, microseconds: 1_000_000) {}
            return
        }
        guard uncommitted else { return }
        do { try handle.synchronize() } catch {
            throw WriteError(path: url.path, reason: error.localizedDescription)
        }
        uncommitted = false
    }

    /// Asks for every line written so far to become durable without waiting for it:
    /// a background thread fsyncs while the caller goes on writing, and each fsync
    /// covers everything written before it began. Returns the ticket to pass to
    /// `isDurable` or `waitDurable`. Other durabilities return a ticket durable at once.
    public func commitSoon() -> UInt64 {
        guard durability == .grouped else { return 0 }
        let syncer = self.syncer ?? BackgroundSync(descriptor: handle.fileDescriptor, path: url.path)
        self.syncer = syncer
        uncommitted = false
        syncer.request(appended)
        return appended
    }

    /// fsyncs the background thread has made: with the number of lines, how many each covered.
    public var backgroundSyncs: Int { syncer?.syncs ?? 0 }

    /// Whether the lines named by `ticket` are on disk; throws if an fsync failed.
    public func isDurable(_ ticket: UInt64) throws -> Bool {
        guard let syncer else { return true }
        return try syncer.wait(until: ticket, microseconds: 0)
    }

    /// Waits up to `microseconds` for the lines named by `ticket` to be on disk;
    /// true once they are. Throws if an fsync failed.
    public func waitDurable(_ ticket: UInt64, microseconds: UInt32) throws -> Bool {
        guard let syncer else { return true }
        return try syncer.wait(until: ticket, microseconds: microseconds)
    }

    /// The thread behind `commitSoon`: fsyncs as long as more has been asked for than is
    /// durable. A request never waits for more lines to arrive, so at low load a commit
    /// takes one fsync, as a synchronous one does.
    private final class BackgroundSync: @unchecked Sendable {
        private let descriptor: Int32
        private let path: String
        private let condition = NSCondition()
        private var requested: UInt64 = 0
        private var durable: UInt64 = 0
        private var failure: String?
        private var closing = false
        private var finished = false
        private var count = 0
        var syncs: Int { condition.lock(); defer { condition.unlock() }; return count }

        init(descriptor: Int32, path: String) {
            self.descriptor = descriptor
            self.path = path
            let thread = Thread { [self] in loop() }
            thread.name = "journal fsync"
            thread.start()
        }

        func request(_ position: UInt64) {
            condition.lock()
            if position > requested { requested = position; condition.broadcast() }
            condition.unlock()
        }

        func wait(until position: UInt64, microseconds: UInt32) throws -> Bool {
            condition.lock()
            defer { condition.unlock() }
            let deadline = Date(timeIntervalSinceNow: Double(microseconds) / 1e6)
            while durable < position && failure == nil && microseconds > 0 {
                if !condition.wait(until: deadline) { break }
            }
            if let failure { throw WriteError(path: path, reason: "fsync failed: \(failure)") }
            return durable >= position
        }

        func shutDown() {
            condition.lock()
            closing = true
            condition.broadcast()
            while !finished { condition.wait() }
            condition.unlock()
        }

        private func loop() {
            condition.lock()
            while true {
                while requested <= durable && !closing { condition.wait() }
                if requested <= durable || failure != nil { break }
                // Everything written before this fsync starts is covered by it.
                let target = requested
                condition.unlock()
                let status = fsync(descriptor)
                let reason = status == 0 ? nil : String(cString: strerror(errno))
                condition.lock()
                count += 1
                if let reason { failure = reason } else { durable = Swift.max(durable, target) }
                condition.broadcast()
            }
            finished = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Writes what a buffered journal holds.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        do { try handle.write(contentsOf: buffer) } catch {
            throw WriteError(path: url.path, reason: error.localizedDescription)
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

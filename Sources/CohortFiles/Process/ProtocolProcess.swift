import CSpawn
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A long-lived program that answers requests as JSON lines over two pipes of its own
/// (descriptors 3 and 4 in the program, named by `COHORT_PROTOCOL_FDS`), so that
/// whatever it prints on standard output stays out of the conversation.
///
/// Each request is one JSON object on one line; the program answers each with one
/// line, in order: `{"ok": true, ...}` or `{"ok": false, "error": "...", "traceback": "..."}`.
/// The first request is `{"op": "hello", "protocol": 1}`.
public final class ProtocolProcess {
    public static let protocolVersion = 1
    /// The descriptors the program reads requests from and writes replies to.
    public static let requestDescriptor: Int32 = 3, replyDescriptor: Int32 = 4

    /// Why a request got no good answer.
    public enum Failure: Error, CustomStringConvertible {
        /// The program answered `ok: false`.
        case refused(String)
        /// The program ended (or closed its pipe); with the tail of its standard error.
        case ended(String)
        /// No answer in time; the program was killed.
        case timedOut(Double)
        /// The answer was not a JSON object.
        case unreadable(String)

        public var description: String {
            switch self {
            case let .refused(s), let .ended(s), let .unreadable(s): return s
            case let .timedOut(t): return "no answer within \(JSONValue.number((t * 10).rounded() / 10)) s; the worker process was killed"
            }
        }
    }

    public let child: ChildProcess
    public let stderrPath: String
    private let requests: Int32
    private let replies: Int32
    private var buffer: [UInt8] = []
    private var stopped = false

    /// Starts `command` (its environment gains `COHORT_PROTOCOL_FDS`) and greets it;
    /// `startTimeout` bounds the greeting (imports and CUDA start-up included).
    public init(_ command: ChildProcess.Command, startTimeout: Double? = 600) throws {
        ProtocolProcess.ignoreBrokenPipes
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
        guard cohort_pipe(&toChild) == 0 else { throw Failure.ended("cannot make a pipe: \(String(cString: strerror(errno)))") }
        guard cohort_pipe(&fromChild) == 0 else {
            close(toChild[0]); close(toChild[1])
            throw Failure.ended("cannot make a pipe: \(String(cString: strerror(errno)))")
        }
        var cmd = command
        cmd.environment["COHORT_PROTOCOL_FDS"] = "\(ProtocolProcess.requestDescriptor),\(ProtocolProcess.replyDescriptor)"
        do {
            child = try ChildProcess.launch(cmd, passing: [(toChild[0], ProtocolProcess.requestDescriptor), (fromChild[1], ProtocolProcess.replyDescriptor)])
        } catch {
            for fd in toChild + fromChild { close(fd) }
            throw error
        }
        close(toChild[0])
        close(fromChild[1])
        requests = toChild[1]
        replies = fromChild[0]
        stderrPath = command.stderrPath
        let hello = try request(.object([("op", .string("hello")), ("protocol", .int(ProtocolProcess.protocolVersion))]), timeout: startTimeout)
        if let v = hello["protocol"]?.intValue, v != ProtocolProcess.protocolVersion {
            stop()
            throw Failure.refused("the worker process speaks protocol \(v); this Cohort speaks \(ProtocolProcess.protocolVersion)")
        }
    }

    deinit { stop() }

    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN); return () }()

    /// Sends `message` and returns the program's answer (`ok: true`). Past `timeout`
    /// seconds the program is killed.
    public func request(_ message: JSONValue, timeout: Double?) throws -> JSONValue {
        guard !stopped else { throw Failure.ended("the worker process has already ended") }
        let line = Array((message.description + "\n").utf8)
        var written = 0
        while written < line.count {
            let n = line[written...].withUnsafeBytes { write(requests, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ended() }
            written += n
        }
        let reply = try readLine(timeout: timeout)
        guard let json = try? JSONValue.parse(reply), json.objectMembers != nil else {
            throw Failure.unreadable("the worker process answered with something that is not a JSON object: \(reply.prefix(200))")
        }
        guard json["ok"]?.boolValue == true else {
            var text = json["error"]?.stringValue ?? "the worker process refused \(message["op"]?.stringValue ?? "the request")"
            if let tb = json["traceback"]?.stringValue, !tb.isEmpty { text += "\n" + Self.tail(of: tb, lines: 12) }
            throw Failure.refused(text)
        }
        return json
    }

    private func readLine(timeout: Double?) throws -> String {
        let started = Date()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let waited = Date().timeIntervalSince(started)
            if let timeout, waited >= timeout {
                child.terminate()
                stop()
                throw Failure.timedOut(waited)
            }
            var p = pollfd(fd: replies, events: Int16(POLLIN), revents: 0)
            let slice = timeout.map { Swift.min(100, Swift.max(1, Int32((($0 - waited) * 1000).rounded(.up)))) } ?? 100
            let r = poll(&p, 1, slice)
            if r < 0 && errno != EINTR { throw ended() }
            if r > 0 {
                let n = chunk.withUnsafeMutableBytes { read(replies, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw ended() }
                buffer.append(contentsOf: chunk[..<n])
            } else if child.poll() != nil {
                // Ended while a child of its own keeps the pipe open.
                throw ended()
            }
        }
    }

    private func ended() -> Failure {
        let termination = child.poll() ?? { child.terminate(grace: 1); return child.poll() }()
        stop()
        let how = termination.map { "the worker process \($0)" } ?? "the worker process closed its pipe"
        let err = Self.tail(ofFile: stderrPath)
        return .ended(err.isEmpty ? how : "\(how); its stderr ends:\n\(err)")
    }

    /// Asks the program to exit (`{"op": "exit"}`), and ends it if it has not within
    /// `grace` seconds.
    public func stop(grace: Double = 2) {
        guard !stopped else { return }
        stopped = true
        if child.poll() == nil {
            let line = Array("{\"op\":\"exit\"}\n".utf8)
            _ = line.withUnsafeBytes { write(requests, $0.baseAddress, $0.count) }
        }
        close(requests)
        close(replies)
        let deadline = Date().addingTimeInterval(grace)
        while child.poll() == nil && Date() < deadline { usleep(2_000) }
        child.terminate(grace: 1)
    }

    public var isRunning: Bool { !stopped && child.poll() == nil }

    /// The last `lines` lines of `text`.
    public static func tail(of text: String, lines: Int = 20) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The last lines of a file (at most its last 4 KiB) from `offset` on.
    public static func tail(ofFile path: String, from offset: UInt64 = 0, lines: Int = 20) -> String {
        guard let h = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? h.close() }
        let end = (try? h.seekToEnd()) ?? 0
        let start = Swift.max(offset, end > 4096 ? end - 4096 : 0)
        guard end > start else { return "" }
        try? h.seek(toOffset: start)
        let data = (try? h.read(upToCount: Int(end - start))) ?? Data()
        return tail(of: String(decoding: data, as: UTF8.self), lines: lines)
    }
}

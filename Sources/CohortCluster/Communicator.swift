/// A group of ranks that exchange messages and run collectives.
///
/// Every workload talks to this protocol, never to MPI directly, so the same code
/// runs under `mpirun` (``MPICommunicator``) and inside one process with threads
/// (``LocalCommunicator``). The requirements work on raw bytes plus a
/// ``ScalarType``; the typed API (`[Float]`, `[Double]`, `Codable` messages) lives in
/// extensions so that a backend implements only a handful of primitives.
///
/// Buffer lifetimes: every blocking call is done with its buffers when it returns.
/// Non-blocking calls (``isend(_:to:tag:)``, ``irecv(from:tag:)``) copy or own their
/// buffers, so nothing the caller holds must outlive the call.
///
/// Waiting does not spin: a rank blocked in ``probe(from:tag:)``, a receive or
/// ``barrier()`` backs off to sleeping, so idle ranks leave their core to others.
public protocol Communicator: AnyObject {
    /// This process's index in the group, `0..<size`.
    var rank: Int { get }
    /// The number of ranks in the group.
    var size: Int { get }

    /// Blocks until every rank of the group has called it.
    func barrier() throws

    // MARK: Point to point

    /// Sends `bytes` to rank `destination` with `tag` (>= 0). Returns when the buffer may be reused.
    func sendBytes(_ bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int) throws

    /// Starts sending a copy of `bytes`; the request owns the copy, so the caller's
    /// buffer may be reused at once. Complete it with ``PendingRequest/wait()``.
    func isendBytes(_ bytes: [UInt8], to destination: Int, tag: Int) throws -> PendingRequest

    /// Blocks (without spinning) until a message matching `source`/`tag` is ready and
    /// tells its source, tag and size in bytes without receiving it.
    func probe(from source: Int?, tag: Int?) throws -> MessageInfo

    /// Like ``probe(from:tag:)`` but returns `nil` at once when no message is ready.
    func iprobe(from source: Int?, tag: Int?) throws -> MessageInfo?

    /// Receives the message matching exactly `source` and `tag` (as reported by a probe)
    /// into `buffer`, which must be at least as large as the message.
    func receiveBytes(into buffer: UnsafeMutableRawBufferPointer, from source: Int, tag: Int) throws -> MessageInfo

    // MARK: Collectives (every rank calls them in the same order)

    /// Element-wise reduction of `count` scalars over all ranks; every rank gets the
    /// result in `result`. `input == nil` means in place: `result` holds the input.
    func allreduceBytes(_ input: UnsafeRawPointer?, _ result: UnsafeMutableRawPointer,
                        count: Int, type: ScalarType, op: ReductionOp) throws

    /// Like ``allreduceBytes(_:_:count:type:op:)`` but only `root` receives the result;
    /// `result` is ignored on other ranks.
    func reduceBytes(_ input: UnsafeRawPointer?, _ result: UnsafeMutableRawPointer,
                     count: Int, type: ScalarType, op: ReductionOp, root: Int) throws

    /// Copies `buffer` from `root` into `buffer` on every rank.
    func broadcastBytes(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws

    /// Gathers each rank's bytes (sizes may differ) on every rank, in rank order.
    /// `root == nil` means all ranks receive (allgather); otherwise only `root`
    /// gets a non-empty result.
    func gatherBytes(_ bytes: UnsafeRawBufferPointer, root: Int?) throws -> [[UInt8]]

    /// Splits the group: ranks with the same `color` form a new group, ordered by
    /// `key` then by old rank. A `nil` color leaves the rank out (returns `nil`).
    func split(color: Int?, key: Int) throws -> Communicator?
}

/// What a probe reports about a pending message.
public struct MessageInfo: Equatable, Sendable {
    public var source: Int
    public var tag: Int
    public var byteCount: Int
    public init(source: Int, tag: Int, byteCount: Int) {
        self.source = source
        self.tag = tag
        self.byteCount = byteCount
    }
}

/// The element types collectives understand.
public enum ScalarType: Sendable {
    case float32, float64, int32, int64, uint8

    public var stride: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .uint8: return 1
        }
    }
}

/// Reductions available to ``Communicator/allreduceBytes(_:_:count:type:op:)``.
/// `mean` is a sum divided by the group size (floating-point types only).
public enum ReductionOp: String, Sendable, CaseIterable {
    case sum, min, max, mean
}

/// A scalar that can travel through a ``Communicator`` typed call.
public protocol CommunicatorScalar: Numeric, Comparable {
    static var scalarType: ScalarType { get }
}
extension Float: CommunicatorScalar { public static var scalarType: ScalarType { .float32 } }
extension Double: CommunicatorScalar { public static var scalarType: ScalarType { .float64 } }
extension Int32: CommunicatorScalar { public static var scalarType: ScalarType { .int32 } }
extension Int64: CommunicatorScalar { public static var scalarType: ScalarType { .int64 } }
extension UInt8: CommunicatorScalar { public static var scalarType: ScalarType { .uint8 } }

/// Errors raised by communicators, with the backend's own message where it has one.
public enum CommunicatorError: Error, CustomStringConvertible, Equatable {
    case mpi(function: String, code: Int32, message: String)
    case invalidRank(Int, size: Int)
    case invalidTag(Int)
    case truncated(expected: Int, capacity: Int)
    case sizeMismatch(String)
    case unsupported(String)
    case decoding(String)
    case aborted(String)

    public var description: String {
        switch self {
        case let .mpi(function, code, message): return "\(function) failed (MPI error \(code)): \(message)"
        case let .invalidRank(r, size): return "rank \(r) is outside the communicator (size \(size))"
        case let .invalidTag(t): return "tag \(t) is invalid (tags are 0...32767)"
        case let .truncated(expected, capacity): return "message of \(expected) bytes does not fit a buffer of \(capacity) bytes"
        case let .sizeMismatch(s): return "size mismatch: \(s)"
        case let .unsupported(s): return "unsupported: \(s)"
        case let .decoding(s): return "could not decode message: \(s)"
        case let .aborted(s): return "communicator aborted: \(s)"
        }
    }
}

// MARK: Non-blocking requests

/// A pending non-blocking operation. ``wait()`` backs off to sleeping like every other
/// wait in Cohort.
public protocol PendingRequest: AnyObject {
    /// True once the operation has completed; never blocks.
    func test() throws -> Bool
    /// Blocks until the operation completes.
    func wait() throws
}

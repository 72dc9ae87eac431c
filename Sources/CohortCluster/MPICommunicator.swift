import CMPI
import Foundation

/// A ``Communicator`` over an Open MPI communicator handle.
///
/// Created by ``Cluster/world()`` for `MPI_COMM_WORLD`, or by ``split(color:key:)``.
/// Errors are returned, not fatal (`MPI_ERRORS_RETURN`), and surface as
/// ``CommunicatorError/mpi(function:code:message:)`` with MPI's own error string.
///
/// Waits for messages (`probe`, receives, `barrier`, sends of large messages) poll
/// with non-blocking MPI calls and ``Backoff`` so that idle ranks sleep. Collectives
/// call the blocking MPI routine directly: they are short when ranks arrive together,
/// which is how SPMD loops use them, and a direct call keeps their latency equal to MPI's.
public final class MPICommunicator: Communicator {
    /// The underlying handle, for code that needs to call MPI itself (benchmarks).
    public let handle: MPI_Comm
    public let rank: Int
    public let size: Int
    private let ownsHandle: Bool
    private let backoff: Backoff

    init(handle: MPI_Comm, ownsHandle: Bool, backoff: Backoff = .standard) throws {
        self.handle = handle
        self.ownsHandle = ownsHandle
        self.backoff = backoff
        try MPIError.check(MPI_Comm_set_errhandler(handle, cohort_mpi_errors_return()), "MPI_Comm_set_errhandler")
        var r: Int32 = 0, s: Int32 = 0
        try MPIError.check(MPI_Comm_rank(handle, &r), "MPI_Comm_rank")
        try MPIError.check(MPI_Comm_size(handle, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
    }

    deinit {
        if ownsHandle && !MPIRuntime.isFinalized {
            var h: MPI_Comm? = handle
            MPI_Comm_free(&h)
        }
    }

    public func barrier() throws {
        var request: MPI_Request? = nil
        try MPIError.check(MPI_Ibarrier(handle, &request), "MPI_Ibarrier")
        try waitForRequest(&request, "MPI_Ibarrier")
    }

    // MARK: Point to point

    public func sendBytes(_ bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int) throws {
        var request: MPI_Request? = nil
        try MPIError.check(MPI_Isend(bytes.baseAddress, try Self.count(bytes.count), cohort_mpi_byte(),
                                     Int32(destination), Int32(tag), handle, &request), "MPI_Isend")
        try waitForRequest(&request, "MPI_Isend")
    }

    public func isendBytes(_ bytes: [UInt8], to destination: Int, tag: Int) throws -> PendingRequest {
        let request = MPISendRequest(bytes: bytes, backoff: backoff)
        try request.start(to: destination, tag: tag, comm: handle)
        return request
    }

    public func probe(from source: Int?, tag: Int?) throws -> MessageInfo {
        try backoff.wait { try iprobe(from: source, tag: tag) }
    }

    public func iprobe(from source: Int?, tag: Int?) throws -> MessageInfo? {
        var flag: Int32 = 0
        var status = MPI_Status()
        try MPIError.check(MPI_Iprobe(Int32(source ?? Int(cohort_mpi_any_source())),
                                      Int32(tag ?? Int(cohort_mpi_any_tag())), handle, &flag, &status), "MPI_Iprobe")
        guard flag != 0 else { return nil }
        var count: Int32 = 0
        try MPIError.check(MPI_Get_count(&status, cohort_mpi_byte(), &count), "MPI_Get_count")
        return MessageInfo(source: Int(status.MPI_SOURCE), tag: Int(status.MPI_TAG), byteCount: Int(count))
    }

    public func receiveBytes(into buffer: UnsafeMutableRawBufferPointer, from source: Int, tag: Int) throws -> MessageInfo {
        // Wait by probing so an idle receiver sleeps; MPI's non-overtaking rule makes the
        // probed message the one MPI_Recv below matches for the same source and tag.
        let info = try probe(from: source, tag: tag)
        guard info.byteCount <= buffer.count else {
            throw CommunicatorError.truncated(expected: info.byteCount, capacity: buffer.count)
        }
        var status = MPI_Status()
        try MPIError.check(MPI_Recv(buffer.baseAddress, Int32(info.byteCount), cohort_mpi_byte(),
                                    Int32(info.source), Int32(info.tag), handle, &status), "MPI_Recv")
        return info
    }

    // MARK: Collectives

    public func allreduceBytes(_ input: UnsafeRawPointer?, _ result: UnsafeMutableRawPointer,
                               count: Int, type: ScalarType, op: ReductionOp) throws {
        let n = try Self.count(count)
        try MPIError.check(MPI_Allreduce(input ?? UnsafeRawPointer(cohort_mpi_in_place()), result, n,
                                         type.mpiDatatype, try op.mpiOp(for: type), handle), "MPI_Allreduce")
        if op == .mean { try ScalarArithmetic.divide(result, count: count, type: type, by: size) }
    }

    public func reduceBytes(_ input: UnsafeRawPointer?, _ result: UnsafeMutableRawPointer,
                            count: Int, type: ScalarType, op: ReductionOp, root: Int) throws {
        let n = try Self.count(count)
        let send: UnsafeRawPointer
        if let input { send = input }
        else if rank == root { send = UnsafeRawPointer(cohort_mpi_in_place()) }
        else { send = UnsafeRawPointer(result) }
        try MPIError.check(MPI_Reduce(send, result, n, type.mpiDatatype, try op.mpiOp(for: type),
                                      Int32(root), handle), "MPI_Reduce")
        if op == .mean && rank == root { try ScalarArithmetic.divide(result, count: count, type: type, by: size) }
    }

    public func broadcastBytes(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard buffer.count > 0 else { return try barrier() }
        try MPIError.check(MPI_Bcast(buffer.baseAddress, try Self.count(buffer.count), cohort_mpi_byte(),
                                     Int32(root), handle), "MPI_Bcast")
    }

    public func gatherBytes(_ bytes: UnsafeRawBufferPointer, root: Int?) throws -> [[UInt8]] {
        // Sizes first (one Int32 per rank), then the variable-sized payloads.
        var mySize = try Self.count(bytes.count)
        var sizes = [Int32](repeating: 0, count: size)
        let receives = root == nil || root == rank
        if let root {
            try MPIError.check(MPI_Gather(&mySize, 1, cohort_mpi_int32(), &sizes, 1, cohort_mpi_int32(),
                                          Int32(root), handle), "MPI_Gather")
        } else {
            try MPIError.check(MPI_Allgather(&mySize, 1, cohort_mpi_int32(), &sizes, 1, cohort_mpi_int32(),
                                             handle), "MPI_Allgather")
        }
        var offsets = [Int32](repeating: 0, count: size)
        var total = 0
        if receives {
            for r in 0..<size { offsets[r] = try Self.count(total); total += Int(sizes[r]) }
        }
        var all = [UInt8](repeating: 0, count: max(total, 1))
        let sendBase = bytes.baseAddress ?? UnsafeRawPointer(all.withUnsafeBytes { $0.baseAddress! })
        try all.withUnsafeMutableBytes { out in
            if let root {
                try MPIError.check(MPI_Gatherv(sendBase, mySize, cohort_mpi_byte(), out.baseAddress, &sizes, &offsets,
                                               cohort_mpi_byte(), Int32(root), handle), "MPI_Gatherv")
            } else {
                try MPIError.check(MPI_Allgatherv(sendBase, mySize, cohort_mpi_byte(), out.baseAddress, &sizes, &offsets,
                                                  cohort_mpi_byte(), handle), "MPI_Allgatherv")
            }
        }
        guard receives else { return [] }
        return (0..<size).map { r in Array(all[Int(offsets[r])..<(Int(offsets[r]) + Int(sizes[r]))]) }
    }

    public func split(color: Int?, key: Int) throws -> Communicator? {
        var newComm: MPI_Comm? = nil
        try MPIError.check(MPI_Comm_split(handle, Int32(color ?? Int(cohort_mpi_undefined())), Int32(key), &newComm),
                           "MPI_Comm_split")
        guard color != nil, let newComm else { return nil }
        return try MPICommunicator(handle: newComm, ownsHandle: true, backoff: backoff)
    }

    // MARK: Helpers

    private func waitForRequest(_ request: inout MPI_Request?, _ function: String) throws {
        try Self.wait(&request, function, backoff: backoff)
    }

    static func wait(_ request: inout MPI_Request?, _ function: String, backoff: Backoff) throws {
        try backoff.wait { () -> Bool? in
            var flag: Int32 = 0
            try MPIError.check(MPI_Test(&request, &flag, cohort_mpi_status_ignore()), function)
            return flag != 0 ? true : nil
        }
    }

    /// MPI counts are 32-bit; larger buffers are refused rather than truncated.
    static func count(_ n: Int) throws -> Int32 {
        guard n <= Int(Int32.max) else {
            throw CommunicatorError.unsupported("a single MPI message of \(n) elements exceeds 2^31-1")
        }
        return Int32(n)
    }
}

/// A non-blocking send that owns a copy of its bytes until MPI is done with them.
final class MPISendRequest: PendingRequest {
    private var bytes: [UInt8]
    private var request: MPI_Request? = nil
    private var done = false
    private let backoff: Backoff

    init(bytes: [UInt8], backoff: Backoff) {
        self.bytes = bytes
        self.backoff = backoff
    }

    func start(to destination: Int, tag: Int, comm: MPI_Comm) throws {
        let n = try MPICommunicator.count(bytes.count)
        // The array's storage is stable: `bytes` is never mutated while the send is pending.
        try bytes.withUnsafeMutableBytes { raw in
            try MPIError.check(MPI_Isend(raw.baseAddress, n, cohort_mpi_byte(), Int32(destination), Int32(tag),
                                         comm, &request), "MPI_Isend")
        }
    }

    func test() throws -> Bool {
        if done { return true }
        var flag: Int32 = 0
        try MPIError.check(MPI_Test(&request, &flag, cohort_mpi_status_ignore()), "MPI_Test")
        done = flag != 0
        return done
    }

    func wait() throws {
        if done { return }
        try MPICommunicator.wait(&request, "MPI_Isend", backoff: backoff)
        done = true
    }
}

// MARK: Mapping Cohort's enums onto MPI handles

extension ScalarType {
    var mpiDatatype: MPI_Datatype {
        switch self {
        case .float32: return cohort_mpi_float()
        case .float64: return cohort_mpi_double()
        case .int32: return cohort_mpi_int32()
        case .int64: return cohort_mpi_int64()
        case .uint8: return cohort_mpi_uint8()
        }
    }
}

extension ReductionOp {
    func mpiOp(for type: ScalarType) throws -> MPI_Op {
        switch self {
        case .sum: return cohort_mpi_sum()
        case .min: return cohort_mpi_min()
        case .max: return cohort_mpi_max()
        case .mean:
            guard type == .float32 || type == .float64 else {
                throw CommunicatorError.unsupported("mean reduction of integer type \(type)")
            }
            return cohort_mpi_sum()
        }
    }
}

/// Turns MPI return codes into Swift errors carrying MPI's message.
enum MPIError {
    static func check(_ code: Int32, _ function: String) throws {
        guard code != cohort_mpi_success() else { return }
        throw CommunicatorError.mpi(function: function, code: code, message: message(for: code))
    }

    static func message(for code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(cohort_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        guard MPI_Error_string(code, &buffer, &length) == cohort_mpi_success() else { return "unknown MPI error" }
        return String(cString: buffer)
    }
}

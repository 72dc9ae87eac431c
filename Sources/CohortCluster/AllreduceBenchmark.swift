import CMPI
import Foundation

/// Times an in-place Float sum allreduce through the ``Communicator`` protocol and, in
/// the same run on the same buffer, through a direct `MPI_Allreduce` call, so the
/// wrapper's overhead shows as a ratio.
///
/// Each sample is: `MPI_Barrier`, then `iterations` back-to-back allreduces, timed with
/// `MPI_Wtime`; a sample's time is the slowest rank's. The two paths alternate sample by
/// sample so that drift in the machine's load hits both alike. Bus bandwidth follows the
/// usual convention for allreduce: bytes / time * 2(n-1)/n.
public struct AllreduceBenchmark {
    public struct Row: Codable, Equatable {
        public var bytes: Int
        public var iterations: Int
        public var cohortMicroseconds: Double
        public var directMicroseconds: Double
        public var cohortBusGBps: Double
        public var directBusGBps: Double
        /// Cohort's median time over the direct call's (1.0 means no overhead).
        public var ratio: Double { cohortMicroseconds / directMicroseconds }
        /// Cohort's median time minus the direct call's, in microseconds.
        public var overheadMicroseconds: Double { cohortMicroseconds - directMicroseconds }
    }

    /// Message sizes in bytes: 4 B to 16 MiB by factors of 4.
    public var sizes: [Int] = (0...11).map { 4 << (2 * $0) }
    /// Timed samples per size and path; the median is reported.
    public var samples = 21
    /// Bytes moved per sample at most; small messages repeat more to rise above timer noise.
    public var bytesPerSample = 8 << 20

    public init() {}

    /// Runs on every rank of `comm`, which must be an MPI communicator; every rank gets
    /// the same rows.
    public func run(on comm: MPICommunicator) throws -> [Row] {
        var rows: [Row] = []
        let n = Double(comm.size)
        for bytes in sizes {
            let count = max(1, bytes / 4)
            let iterations = min(2_000, max(2, bytesPerSample / bytes))
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            defer { buffer.deallocate() }
            buffer.initialize(repeating: 0)   // zeros stay zeros: no overflow, no denormals
            let protocolView: Communicator = comm
            // Warm both paths (connection setup, page faults).
            for _ in 0..<3 {
                try protocolView.allreduce(buffer, op: .sum)
                try MPIError.check(MPI_Allreduce(cohort_mpi_in_place(), buffer.baseAddress, Int32(count), cohort_mpi_float(),
                                                 cohort_mpi_sum(), comm.handle), "MPI_Allreduce")
            }
            var cohortTimes: [Double] = [], directTimes: [Double] = []
            for _ in 0..<samples {
                cohortTimes.append(try timeSample(comm, iterations) { try protocolView.allreduce(buffer, op: .sum) })
                directTimes.append(try timeSample(comm, iterations) {
                    try MPIError.check(MPI_Allreduce(cohort_mpi_in_place(), buffer.baseAddress, Int32(count), cohort_mpi_float(),
                                                     cohort_mpi_sum(), comm.handle), "MPI_Allreduce")
                })
            }
            let cohort = Self.median(cohortTimes), direct = Self.median(directTimes)
            let busFactor = n > 1 ? 2 * (n - 1) / n : 1
            let moved = Double(count * 4)
            rows.append(Row(bytes: count * 4, iterations: iterations,
                            cohortMicroseconds: cohort * 1e6, directMicroseconds: direct * 1e6,
                            cohortBusGBps: moved / cohort * busFactor / 1e9, directBusGBps: moved / direct * busFactor / 1e9))
        }
        return rows
    }

    /// Seconds per operation for one sample, the slowest rank's.
    private func timeSample(_ comm: MPICommunicator, _ iterations: Int, _ op: () throws -> Void) throws -> Double {
        try MPIError.check(MPI_Barrier(comm.handle), "MPI_Barrier")
        let start = MPI_Wtime()
        for _ in 0..<iterations { try op() }
        var elapsed = (MPI_Wtime() - start) / Double(iterations)
        try MPIError.check(MPI_Allreduce(cohort_mpi_in_place(), &elapsed, 1, cohort_mpi_double(), cohort_mpi_max(),
                                         comm.handle), "MPI_Allreduce")
        return elapsed
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

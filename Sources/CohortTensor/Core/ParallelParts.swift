import Foundation

/// Splits the tensor core's own loops (those that are not one BLAS call) over as many
/// threads as OpenBLAS uses, so one setting governs both: one thread per rank under MPI.
enum ParallelParts {
    /// Threads for `work` independent items: OpenBLAS's thread count, at most `work`.
    static func threads(for work: Int) -> Int { Swift.max(1, Swift.min(BLASRuntime.threads, work)) }

    /// Calls `body(part, range)` for `parts` contiguous ranges covering 0..<count, at
    /// once on `parts` threads, and returns when all have finished.
    static func run(_ count: Int, parts: Int, _ body: (Int, Range<Int>) -> Void) {
        let range = { (part: Int) in (count * part / parts)..<(count * (part + 1) / parts) }
        if parts <= 1 { body(0, 0..<count); return }
        DispatchQueue.concurrentPerform(iterations: parts) { part in body(part, range(part)) }
    }
}

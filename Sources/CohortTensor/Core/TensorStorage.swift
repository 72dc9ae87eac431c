import Foundation

/// A block of Float32 memory that tensors view.
///
/// Every owning allocation goes through here so that `TensorStorage.allocationCount`
/// is an honest count: the training-loop contract (no new storage after the first
/// step) is asserted by reading it.
public final class TensorStorage: @unchecked Sendable {
    /// First element; 64-byte aligned for owned storage.
    public let base: UnsafeMutablePointer<Float>
    /// Number of Float elements available.
    public let capacity: Int
    private let owned: Bool

    /// Allocates `capacity` zero-filled floats.
    public init(capacity: Int) {
        precondition(capacity >= 0, "storage capacity must be non-negative")
        let bytes = max(capacity, 1) * MemoryLayout<Float>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        base = raw.bindMemory(to: Float.self, capacity: max(capacity, 1))
        self.capacity = capacity
        owned = true
        AllocationCounter.shared.record(bytes: bytes)
    }

    /// Wraps memory owned by someone else (e.g. a dataset); it must outlive the storage.
    /// Not counted as an allocation.
    public init(borrowing pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        base = pointer
        self.capacity = capacity
        owned = false
    }

    deinit {
        if owned { UnsafeMutableRawPointer(base).deallocate() }
    }

    /// Number of owning storage allocations made in this process so far.
    public static var allocationCount: Int { AllocationCounter.shared.count }
    /// Bytes allocated by owning storage in this process so far.
    public static var allocatedBytes: Int { AllocationCounter.shared.bytes }
}

/// Process-wide count of storage allocations (locked: ranks may run as threads).
final class AllocationCounter: @unchecked Sendable {
    static let shared = AllocationCounter()
    private let lock = NSLock()
    private var _count = 0
    private var _bytes = 0

    func record(bytes: Int) {
        lock.lock(); _count += 1; _bytes += bytes; lock.unlock()
    }
    var count: Int { lock.lock(); defer { lock.unlock() }; return _count }
    var bytes: Int { lock.lock(); defer { lock.unlock() }; return _bytes }
}

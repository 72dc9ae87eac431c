/// Storage reused step after step.
///
/// A training step asks for buffers in the same order every time (same model, same
/// ops), so the arena hands out its slots by position: the i-th request of a step gets
/// slot i, grown only if the request is larger than anything that slot held before.
/// After the first step (and the first of any larger batch) nothing is allocated.
struct TensorArena {
    private var slots: [TensorStorage] = []
    private var cursor = 0
    private var indexSlots: [IndexStorage] = []
    private var indexCursor = 0

    /// A storage block of at least `count` floats, valid until `reset()`. Contents are
    /// whatever the slot held before: callers overwrite or zero it.
    mutating func take(_ count: Int) -> TensorStorage {
        defer { cursor += 1 }
        if cursor < slots.count {
            if slots[cursor].capacity >= count { return slots[cursor] }
            slots[cursor] = TensorStorage(capacity: count)
            return slots[cursor]
        }
        slots.reserveCapacity(64)
        let s = TensorStorage(capacity: count)
        slots.append(s)
        return s
    }

    /// An Int32 block of at least `count` elements (labels, argmax positions).
    mutating func takeIndices(_ count: Int) -> UnsafeMutablePointer<Int32> {
        defer { indexCursor += 1 }
        if indexCursor < indexSlots.count {
            if indexSlots[indexCursor].capacity < count { indexSlots[indexCursor] = IndexStorage(capacity: count) }
            return indexSlots[indexCursor].base
        }
        indexSlots.append(IndexStorage(capacity: count))
        return indexSlots[indexCursor].base
    }

    /// Makes every slot available again; tensors handed out before are invalid after.
    mutating func reset() { cursor = 0; indexCursor = 0 }

    var slotCount: Int { slots.count }
    var reservedFloats: Int { slots.reduce(0) { $0 + $1.capacity } }
}

/// Int32 scratch memory; counted like float storage.
final class IndexStorage {
    let base: UnsafeMutablePointer<Int32>
    let capacity: Int
    init(capacity: Int) {
        base = .allocate(capacity: max(capacity, 1))
        base.initialize(repeating: 0, count: max(capacity, 1))
        self.capacity = capacity
        AllocationCounter.shared.record(bytes: max(capacity, 1) * 4)
    }
    deinit { base.deallocate() }
}

// MARK: - Elementwise arithmetic with broadcasting

/// The four broadcasting binary operations share one walk and one set of run loops.
enum BinaryOp { case add, sub, mul, div }

extension Tape {
    public func add(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.add, a, b) }
    public func sub(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.sub, a, b) }
    public func mul(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.mul, a, b) }
    public func div(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.div, a, b) }

    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
        let walk = Broadcast(a.shape, b.shape, op: "\(op)")
        let recorded = needsGrad(a, b)
        let c = output(walk.shape, requiresGrad: recorded)
        let ap = a.pointer, bp = b.pointer, cp = c.pointer
        walk.walk { o, ao, sa, bo, sb, n in
            binaryRun(op, cp + o, ap + ao, sa, bp + bo, sb, n)
        }
        guard recorded else { return c }
        record(c) { tape in
            let g = tape.grad(c)
            // Each side receives dOut times its partial derivative, summed over the axes
            // it was broadcast along (stride 0 accumulates into one element).
            if a.requiresGrad {
                let da = tape.grad(a)
                walk.walk { o, ao, sa, bo, sb, n in
                    let gr = g + o, d = da + ao, x = ap + ao, y = bp + bo
                    switch op {
                    case .add, .sub: accumulate(d, sa, n) { gr[$0] }
                    case .mul: accumulate(d, sa, n) { gr[$0] * y[$0 * sb] }
                    case .div: accumulate(d, sa, n) { gr[$0] / y[$0 * sb] }
                    }
                    _ = x
                }
            }
            if b.requiresGrad {
                let db = tape.grad(b)
                walk.walk { o, ao, sa, bo, sb, n in
                    let gr = g + o, d = db + bo, x = ap + ao, y = bp + bo
                    switch op {
                    case .add: accumulate(d, sb, n) { gr[$0] }
                    case .sub: accumulate(d, sb, n) { -gr[$0] }
                    case .mul: accumulate(d, sb, n) { gr[$0] * x[$0 * sa] }
                    case .div: accumulate(d, sb, n) { let yv = y[$0 * sb]; return -gr[$0] * x[$0 * sa] / (yv * yv) }
                    }
                }
            }
        }
        return c
    }
}

/// `d[i*step] += term(i)` for i in 0..<n; with step 0 the run is summed into d[0].
@inline(__always)
func accumulate(_ d: UnsafeMutablePointer<Float>, _ step: Int, _ n: Int, _ term: (Int) -> Float) {
    if step == 1 {
        for i in 0..<n { d[i] += term(i) }
    } else {
        var s: Float = 0
        for i in 0..<n { s += term(i) }
        d[0] += s
    }
}

/// One run of `c = a op b` where each operand advances by 1 or stays put (step 0).
@inline(__always)
func binaryRun(_ op: BinaryOp, _ c: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ sa: Int,
               _ b: UnsafePointer<Float>, _ sb: Int, _ n: Int) {
    switch (sa, sb) {
    case (1, 1):
        switch op {
        case .add: for i in 0..<n { c[i] = a[i] + b[i] }
        case .sub: for i in 0..<n { c[i] = a[i] - b[i] }
        case .mul: for i in 0..<n { c[i] = a[i] * b[i] }
        case .div: for i in 0..<n { c[i] = a[i] / b[i] }
        }
    case (1, _):
        let y = b[0]
        switch op {
        case .add: for i in 0..<n { c[i] = a[i] + y }
        case .sub: for i in 0..<n { c[i] = a[i] - y }
        case .mul: for i in 0..<n { c[i] = a[i] * y }
        case .div: for i in 0..<n { c[i] = a[i] / y }
        }
    case (_, 1):
        let x = a[0]
        switch op {
        case .add: for i in 0..<n { c[i] = x + b[i] }
        case .sub: for i in 0..<n { c[i] = x - b[i] }
        case .mul: for i in 0..<n { c[i] = x * b[i] }
        case .div: for i in 0..<n { c[i] = x / b[i] }
        }
    default:
        let x = a[0], y = b[0]
        let v: Float
        switch op {
        case .add: v = x + y
        case .sub: v = x - y
        case .mul: v = x * y
        case .div: v = x / y
        }
        c.update(repeating: v, count: n)
    }
}

// MARK: - Scalar operations

extension Tape {
    /// `a * scale + shift`: the backbone of every tensor-scalar operation.
    public func affine(_ a: Tensor, scale: Float, shift: Float) -> Tensor {
        let recorded = needsGrad(a)
        let c = output(a.shape, requiresGrad: recorded)
        let ap = a.pointer, cp = c.pointer
        for i in 0..<a.count { cp[i] = ap[i] * scale + shift }
        guard recorded else { return c }
        record(c) { tape in
            let g = tape.grad(c), da = tape.grad(a)
            for i in 0..<a.count { da[i] += g[i] * scale }
        }
        return c
    }

    public func add(_ a: Tensor, _ s: Float) -> Tensor { affine(a, scale: 1, shift: s) }
    public func sub(_ a: Tensor, _ s: Float) -> Tensor { affine(a, scale: 1, shift: -s) }
    public func sub(_ s: Float, _ a: Tensor) -> Tensor { affine(a, scale: -1, shift: s) }
    public func mul(_ a: Tensor, _ s: Float) -> Tensor { affine(a, scale: s, shift: 0) }
    public func div(_ a: Tensor, _ s: Float) -> Tensor { affine(a, scale: 1 / s, shift: 0) }
    public func neg(_ a: Tensor) -> Tensor { affine(a, scale: -1, shift: 0) }

    /// `s / a` elementwise.
    public func div(_ s: Float, _ a: Tensor) -> Tensor {
        unary(a, { s / $0 }, derivative: { x, y in -y / x })
    }

    /// `a` raised to a constant power.
    public func pow(_ a: Tensor, _ p: Float) -> Tensor {
        unary(a, { Foundation.pow($0, p) }, derivative: { x, _ in p * Foundation.pow(x, p - 1) })
    }

    public func exp(_ a: Tensor) -> Tensor { unary(a, { Foundation.exp($0) }, derivative: { _, y in y }) }
    public func log(_ a: Tensor) -> Tensor { unary(a, { Foundation.log($0) }, derivative: { x, _ in 1 / x }) }
    public func sqrt(_ a: Tensor) -> Tensor { unary(a, { $0.squareRoot() }, derivative: { _, y in 0.5 / y }) }

    /// An elementwise map whose derivative is a function of input x and output y.
    /// Inlined per call site so the closures compile into the loops.
    @inline(__always)
    func unary(_ a: Tensor, _ f: (Float) -> Float, derivative: @escaping (Float, Float) -> Float) -> Tensor {
        let recorded = needsGrad(a)
        let c = output(a.shape, requiresGrad: recorded)
        let ap = a.pointer, cp = c.pointer
        for i in 0..<a.count { cp[i] = f(ap[i]) }
        guard recorded else { return c }
        record(c) { tape in
            let g = tape.grad(c), da = tape.grad(a)
            for i in 0..<a.count { da[i] += g[i] * derivative(ap[i], cp[i]) }
        }
        return c
    }
}

import Foundation

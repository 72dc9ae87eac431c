import Foundation

/// Timings of the tensor core: raw sgemm, whole training steps, convolution.
/// `cohort bench tensor` prints them; `scripts/bench/torch_bench.py` measures the same
/// workloads in PyTorch so the two can be compared side by side.
public enum TensorBenchmark {
    /// One measured workload.
    public struct Result: Codable, Sendable {
        public var kind: String          // "sgemm", "step", "conv2d"
        public var name: String
        public var threads: Int
        /// Median milliseconds per call.
        public var milliseconds: Double
        /// Fastest call: other processes on a shared machine only ever slow a run down,
        /// so the minimum is the steadier figure for comparisons.
        public var bestMilliseconds: Double
        /// Achieved GFLOP/s (from the fastest call) where the FLOP count is well defined.
        public var gflops: Double?
        public var percentOfPeak: Double?
    }

    /// Median and fastest wall time in milliseconds of `body` over `repeats` runs after `warmup`.
    public static func time(warmup: Int = 2, repeats: Int, _ body: () -> Void) -> (median: Double, best: Double) {
        for _ in 0..<warmup { body() }
        var samples: [Double] = []
        samples.reserveCapacity(repeats)
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        samples.sort()
        return (samples[samples.count / 2], samples[0])
    }

    // MARK: sgemm

    /// C = A·B for n×n matrices through the same GEMM gateway the ops use.
    /// `peak`: GFLOP/s of the machine on `threads` threads (``MachinePeak``).
    public static func sgemm(n: Int, threads: Int, peak: Double) -> Result {
        var rng = RandomStream(seed: 1)
        let a = TensorStorage(capacity: n * n), b = TensorStorage(capacity: n * n), c = TensorStorage(capacity: n * n)
        for i in 0..<(n * n) { a.base[i] = rng.uniform() - 0.5; b.base[i] = rng.uniform() - 0.5 }
        let flop = 2 * Double(n) * Double(n) * Double(n)
        let repeats = max(3, min(50, Int(2e10 / flop)))
        let ms = time(repeats: repeats) {
            gemm(transA: false, transB: false, m: n, n: n, k: n, a: a.base, lda: n, b: b.base, ldb: n, beta: 0, c: c.base, ldc: n)
        }
        let gf = flop / ms.best / 1e6
        return Result(kind: "sgemm", name: "sgemm n=\(n)", threads: threads, milliseconds: ms.median, bestMilliseconds: ms.best, gflops: gf,
                      percentOfPeak: peak > 0 ? 100 * gf / peak : nil)
    }

    // MARK: Training steps

    /// One SGD-with-momentum training step (zero gradients, forward, cross-entropy,
    /// backward, update) of `model` on a fixed random batch.
    public static func trainingStep(name: String, model: Model, input: Shape, classes: Int, threads: Int, repeats: Int) -> Result {
        var rng = RandomStream(seed: 2)
        let x = (0..<input.count).map { _ in rng.uniform() }
        let labels = (0..<input[0]).map { _ in Int32(rng.index(below: classes)) }
        let opt = try! SGD(for: model, learningRate: 0.01, momentum: 0.9)
        let tape = Tape()
        let ms = labels.withUnsafeBufferPointer { lb in
            x.withUnsafeBufferPointer { xb in
                time(warmup: 3, repeats: repeats) {
                    tape.reset()
                    model.zeroGradients()
                    let logits = model(tape.tensor(xb, shape: input), tape)
                    tape.backward(tape.crossEntropy(logits, labels: lb))
                    opt.step(model)
                }
            }
        }
        return Result(kind: "step", name: name, threads: threads, milliseconds: ms.median, bestMilliseconds: ms.best, gflops: nil, percentOfPeak: nil)
    }

    /// The MLP 784-256-256-10 at batch 128.
    public static func mlpStep(threads: Int, repeats: Int = 50) -> Result {
        let model = Model(try! MLP.make(sizes: [784, 256, 256, 10]), seed: 1)
        return trainingStep(name: "MLP 784-256-256-10 b128 step", model: model, input: [128, 784], classes: 10, threads: threads, repeats: repeats)
    }

    /// The small CNN on 1x28x28 at batch 128.
    public static func cnnStep(threads: Int, repeats: Int = 20) -> Result {
        let model = Model(try! SmallCNN.make(channels: 1, height: 28, width: 28, classes: 10), seed: 1)
        return trainingStep(name: "SmallCNN 28x28 b128 step", model: model, input: [128, 1, 28, 28], classes: 10, threads: threads, repeats: repeats)
    }

    // MARK: Convolution

    /// Forward, and forward+backward (gradients for input and weight), of one convolution
    /// [n, cin, h, w] → cout, 3x3, pad 1.
    public static func conv2d(n: Int, cin: Int, cout: Int, size: Int, threads: Int, repeats: Int = 20) -> [Result] {
        var rng = RandomStream(seed: 3)
        let x = Tensor((0..<(n * cin * size * size)).map { _ in rng.uniform() - 0.5 }, shape: [n, cin, size, size])
        let w = Tensor((0..<(cout * cin * 9)).map { _ in rng.uniform() - 0.5 }, shape: [cout, cin, 3, 3])
        let wParam = Tensor(shape: w.shape, storage: w.storage, offset: 0, gradientStorage: TensorStorage(capacity: w.count), gradientOffset: 0)
        let xParam = Tensor(shape: x.shape, storage: x.storage, offset: 0, gradientStorage: TensorStorage(capacity: x.count), gradientOffset: 0)
        let flop = 2 * Double(n * cout * size * size) * Double(cin * 9)
        let label = "conv2d \(cin)->\(cout) 3x3 on \(n)x\(cin)x\(size)x\(size)"
        let tape = Tape()
        let fwd = time(repeats: repeats) {
            tape.reset()
            _ = tape.withoutGradients { tape.conv2d(x, weight: w, bias: nil, padding: 1) }
        }
        let both = time(repeats: repeats) {
            tape.reset()
            let y = tape.conv2d(xParam, weight: wParam, bias: nil, padding: 1)
            tape.backward(tape.sum(y))
        }
        return [Result(kind: "conv2d", name: label + " forward", threads: threads, milliseconds: fwd.median, bestMilliseconds: fwd.best, gflops: flop / fwd.best / 1e6),
                Result(kind: "conv2d", name: label + " forward+backward", threads: threads, milliseconds: both.median, bestMilliseconds: both.best, gflops: 3 * flop / both.best / 1e6)]
    }
}

/// An affine rescaling of features, `x' = (x - shift) * scale`, fitted on one dataset
/// (the training split) and then applied unchanged to the others, so validation and test
/// data never leak into the statistics.
///
/// The statistics are either per feature (one shift and scale per position within a
/// sample) or global (one pair for every value). A feature that is constant on the fitting
/// data (e.g. a border pixel that is always 0) gets scale 1, so it stays finite and
/// carries its constant offset only.
public struct Normalization: Sendable, Equatable, Codable {
    /// How the statistics are computed.
    public enum Method: String, Sendable, Codable, CaseIterable {
        /// Zero mean, unit (population) standard deviation for each feature.
        case standardizePerFeature
        /// Zero mean, unit standard deviation over all values.
        case standardizeGlobal
        /// Each feature's minimum to 0 and maximum to 1.
        case minMaxPerFeature
        /// The smallest value to 0 and the largest to 1, the same map for every feature.
        case minMaxGlobal
    }

    /// The method that produced these statistics.
    public let method: Method
    /// Subtracted first; one value per feature, or a single value for global methods.
    public let shift: [Float]
    /// Multiplied second; same length as `shift`.
    public let scale: [Float]

    /// Statistics given directly, e.g. restored from a checkpoint.
    public init(method: Method, shift: [Float], scale: [Float]) {
        precondition(shift.count == scale.count && !shift.isEmpty, "shift and scale must match and not be empty")
        self.method = method
        self.shift = shift
        self.scale = scale
    }

    /// A fixed map of `[0, maximum]` onto `[0, 1]` that needs no statistics (pixels over 255).
    public static func dividing(by maximum: Float) -> Normalization {
        precondition(maximum > 0, "the divisor must be positive")
        return Normalization(method: .minMaxGlobal, shift: [0], scale: [1 / maximum])
    }

    // MARK: Fitting

    /// Computes the statistics of `method` over every sample of `data` (in `Double`).
    public static func fit(_ method: Method, on data: Dataset) throws -> Normalization {
        guard data.count > 0 else {
            throw DatasetError.invalidArgument("cannot fit a normalization on the empty dataset \(data.name)")
        }
        let width = data.featureCount
        let perFeature = method == .standardizePerFeature || method == .minMaxPerFeature
        let slots = perFeature ? width : 1
        var shift = [Float](repeating: 0, count: slots)
        var scale = [Float](repeating: 1, count: slots)
        // Accumulate per feature position, sample by sample; a global method folds the
        // positions together afterwards.
        let samples = data.count
        var sum = [Double](repeating: 0, count: width)
        var low = [Float](repeating: .infinity, count: width)
        var high = [Float](repeating: -.infinity, count: width)
        data.features.withUnsafeBufferPointer { values in
            for sample in 0 ..< samples {
                let row = values.baseAddress! + sample * width
                for f in 0 ..< width {
                    let value = row[f]
                    sum[f] += Double(value)
                    low[f] = min(low[f], value)
                    high[f] = max(high[f], value)
                }
            }
        }
        switch method {
        case .standardizePerFeature, .standardizeGlobal:
            let mean: [Double] = perFeature
                ? sum.map { $0 / Double(samples) }
                : [sum.reduce(0, +) / Double(samples * width)]
            var squares = [Double](repeating: 0, count: width)
            data.features.withUnsafeBufferPointer { values in
                for sample in 0 ..< samples {
                    let row = values.baseAddress! + sample * width
                    for f in 0 ..< width {
                        let centred = Double(row[f]) - mean[perFeature ? f : 0]
                        squares[f] += centred * centred
                    }
                }
            }
            let variance: [Double] = perFeature
                ? squares.map { $0 / Double(samples) }
                : [squares.reduce(0, +) / Double(samples * width)]
            for slot in 0 ..< slots {
                let deviation = variance[slot].squareRoot()
                shift[slot] = Float(mean[slot])
                scale[slot] = deviation > 1e-12 ? Float(1 / deviation) : 1
            }
        case .minMaxPerFeature, .minMaxGlobal:
            let lows = perFeature ? low : [low.min()!]
            let highs = perFeature ? high : [high.max()!]
            for slot in 0 ..< slots {
                let range = Double(highs[slot]) - Double(lows[slot])
                shift[slot] = lows[slot]
                scale[slot] = range > 0 ? Float(1 / range) : 1
            }
        }
        return Normalization(method: method, shift: shift, scale: scale)
    }

    // MARK: Applying

    /// Rescales `data` in place; its sample size must match the fitted one.
    public func apply(to data: inout Dataset) throws {
        guard shift.count == 1 || shift.count == data.featureCount else {
            throw DatasetError.invalidArgument(
                "normalization fitted on \(shift.count) features cannot be applied to \(data.name) with \(data.featureCount)")
        }
        data.withMutableFeatures { apply(toSamples: $0) }
    }

    /// A rescaled copy of `data`.
    public func applied(to data: Dataset) throws -> Dataset {
        var copy = data
        try apply(to: &copy)
        return copy
    }

    /// Rescales raw sample values in place, e.g. a batch buffer; `values.count` must be a
    /// multiple of the fitted feature count. Allocates nothing.
    public func apply(toSamples values: UnsafeMutableBufferPointer<Float>) {
        let slots = shift.count
        precondition(values.count % slots == 0, "\(values.count) values are not whole samples of \(slots) features")
        shift.withUnsafeBufferPointer { shift in
            scale.withUnsafeBufferPointer { scale in
                if slots == 1 {
                    let s = shift[0], k = scale[0]
                    for i in values.indices { values[i] = (values[i] - s) * k }
                } else {
                    var i = 0
                    while i < values.count {
                        for f in 0 ..< slots { values[i + f] = (values[i + f] - shift[f]) * scale[f] }
                        i += slots
                    }
                }
            }
        }
    }
}

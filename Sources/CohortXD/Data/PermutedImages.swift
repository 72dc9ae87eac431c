import CohortData
import CohortTensor

/// Images padded to a power-of-two square and, optionally, with rows and columns put in
/// bit-reversed order: the permuted-image task of the XD paper. The permutation keeps
/// every pixel but destroys locality, the inductive bias a convolution relies on.
public enum PermutedImages {
    /// `data`'s [C, H, W] samples zero-padded (centred) to [C, side, side], then, when
    /// `permute` is set, row r moved to rev(r) and column c to rev(c).
    public static func make(_ data: Dataset, side: Int = 32, permute: Bool) throws -> Dataset {
        guard data.sampleShape.count == 3 else {
            throw XDInputError("\(data.name): permuted images need samples of shape [C, H, W], got \(data.sampleShape)")
        }
        let c = data.sampleShape[0], h = data.sampleShape[1], w = data.sampleShape[2]
        guard side >= 2, side & (side - 1) == 0, side <= 4096 else {
            throw XDInputError("the padded side must be a power of two in 2...4096, got \(side)")
        }
        guard h <= side, w <= side else { throw XDInputError("\(data.name): images of \(h)x\(w) do not fit \(side)x\(side)") }
        let top = (side - h) / 2, left = (side - w) / 2
        let order = permute ? bitReversedOrder(side) : Array(0..<side)
        let plane = side * side
        var features = [Float](repeating: 0, count: data.count * c * plane)
        data.features.withUnsafeBufferPointer { src in
            features.withUnsafeMutableBufferPointer { dst in
                for s in 0..<data.count { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
                    let value = src[((s * c + ch) * h + y) * w + x]
                    dst[(s * c + ch) * plane + order[top + y] * side + order[left + x]] = value
                } } } }
            }
        }
        return try Dataset(name: data.name + (permute ? "/permuted" : "/padded"), sampleShape: [c, side, side], features: features,
                           labels: data.labels, classCount: data.classCount, classNames: data.classNames)
    }
}

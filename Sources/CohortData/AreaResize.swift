/// Shrinks a one-channel image by area averaging: every output pixel is the mean of the
/// input area it covers, fractional pixels weighted by their overlap (105x105 Omniglot
/// drawings to 28x28 keep thin strokes as gray instead of dropping them).
public enum AreaResize {
    /// `input` is `height x width` row-major; the result is `outHeight x outWidth`.
    public static func resize(_ input: [Float], height: Int, width: Int, outHeight: Int, outWidth: Int) -> [Float] {
        precondition(input.count == height * width && outHeight > 0 && outWidth > 0, "AreaResize: bad sizes")
        let rows = weights(from: height, to: outHeight), columns = weights(from: width, to: outWidth)
        // Columns first (each input row to outWidth values), then rows.
        var narrowed = [Float](repeating: 0, count: height * outWidth)
        for y in 0..<height {
            for (x, taps) in columns.enumerated() {
                var s: Float = 0
                for (i, w) in taps { s += input[y * width + i] * w }
                narrowed[y * outWidth + x] = s
            }
        }
        var output = [Float](repeating: 0, count: outHeight * outWidth)
        for (y, taps) in rows.enumerated() {
            for x in 0..<outWidth {
                var s: Float = 0
                for (i, w) in taps { s += narrowed[i * outWidth + x] * w }
                output[y * outWidth + x] = s
            }
        }
        return output
    }

    /// For each output index, the input indices it covers and their weights (summing to 1).
    static func weights(from n: Int, to m: Int) -> [[(Int, Float)]] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { o in
            let lo = Double(o) * scale, hi = Double(o + 1) * scale
            var taps: [(Int, Float)] = []
            var i = Int(lo.rounded(.down))
            while Double(i) < hi && i < n {
                let overlap = min(hi, Double(i + 1)) - max(lo, Double(i))
                if overlap > 0 { taps.append((i, Float(overlap / scale))) }
                i += 1
            }
            return taps
        }
    }
}

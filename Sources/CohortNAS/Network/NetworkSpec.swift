/// The shape of a cell network: NAS-Bench-201's skeleton sized for small images.
///
/// A stem (conv3x3-BN, stride `stemStride`) makes `channels` feature maps; then come stages of
/// `cellsPerStage[s]` cells, each stage after the first opened by a residual reduction
/// block that halves the spatial size and doubles the channels; then BN-ReLU, global
/// average pooling and a linear classifier. NAS-Bench-201 itself uses 16 channels and
/// [5, 5, 5] cells on 32x32 images at stride 1; for 28x28 images on a few cores, a
/// stride-2 stem with 8 channels and [1, 1] cells (14x14 then 7x7) trains in minutes.
public struct NetworkSpec: Equatable, Sendable {
    public var channels: Int
    public var cellsPerStage: [Int]
    /// 1 keeps the input resolution in the first stage; 2 halves it (4x less work).
    public var stemStride: Int

    public init(channels: Int = 8, cellsPerStage: [Int] = [1, 1, 1], stemStride: Int = 1) {
        self.channels = channels
        self.cellsPerStage = cellsPerStage
        self.stemStride = stemStride
    }

    /// Channels of stage s.
    public func channels(stage s: Int) -> Int { channels << s }

    public var cellCount: Int { cellsPerStage.reduce(0, +) }

    /// Checks the spec against an input image of `height` x `width`.
    public func validate(height: Int, width: Int) throws {
        guard channels > 0 else { throw NASInputError("network.channels must be positive, got \(channels)") }
        guard !cellsPerStage.isEmpty, cellsPerStage.allSatisfy({ $0 >= 0 }), cellCount > 0 else {
            throw NASInputError("network.cells lists the cells of each stage (at least one cell in all, none negative), got \(cellsPerStage)")
        }
        guard stemStride == 1 || stemStride == 2 else { throw NASInputError("network.stemStride must be 1 or 2, got \(stemStride)") }
        var h = (height - 1) / stemStride + 1, w = (width - 1) / stemStride + 1
        for s in 1..<max(cellsPerStage.count, 1) {
            guard h % 2 == 0, w % 2 == 0, h >= 2, w >= 2 else {
                throw NASInputError("network: stage \(s) halves the image, but stage \(s - 1) works on \(h)x\(w) (odd or too small); use fewer stages (network.cells has \(cellsPerStage.count))")
            }
            h /= 2; w /= 2
        }
    }
}

import Foundation

/// The UCI 8x8 hand-written digits, compiled into the library as the default dataset.
///
/// 1,797 images of 8x8 pixels with values 0..16, ten classes. Source: the test part of
/// "Optical Recognition of Handwritten Digits", E. Alpaydin and C. Kaynak, UCI Machine
/// Learning Repository (1998), in the copy scikit-learn ships as `digits.csv.gz`;
/// licence CC BY 4.0. See `Sources/CohortData/Resources/README.md`.
public enum EmbeddedDigits {
    /// Samples in the dataset.
    public static let sampleCount = 1_797
    /// The largest pixel value.
    public static let maximumPixel: Float = 16

    /// All 1,797 samples with raw pixel values 0..16, shape `[1, 8, 8]`, named `"digits"`.
    public static func load() throws -> Dataset {
        guard let archive = Data(base64Encoded: DigitsArchive.base64, options: .ignoreUnknownCharacters) else {
            throw DatasetError.corruptCompressedData(path: "embedded digits", reason: "the base64 text does not decode")
        }
        let options = CSVDataset.Options(labelColumn: .last, header: .absent, classCount: 10, sampleShape: [1, 8, 8])
        let digits = try CSVDataset.load(bytes: [UInt8](archive), source: "embedded digits", name: "digits",
                                         options: options)
        return Dataset(validatedName: digits.name, sampleShape: digits.sampleShape, features: digits.features,
                       labels: digits.labels, classCount: 10, classNames: (0 ..< 10).map(String.init))
    }
}

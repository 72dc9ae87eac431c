import XCTest
import CohortData

final class PNGImageTests: XCTestCase {
    let image = PNGImage(width: 11, height: 3, pixels: (0..<33).map { UInt8(($0 * 37) % 256) })

    func testEightBitRoundTripsThroughEveryRowFilter() throws {
        for filter: UInt8 in 0...4 {
            let decoded = try PNGImage.decode(image.encoded(filter: filter), path: "f\(filter).png")
            XCTAssertEqual(decoded, image, "filter \(filter)")
        }
    }

    func testOneBitImagesUnpackToBlackAndWhite() throws {
        // 11 columns: the second byte of each row holds 3 pixels and 5 padding bits.
        let bits = (0..<33).map { UInt8($0 % 3 == 0 ? 255 : 0) }
        let source = PNGImage(width: 11, height: 3, pixels: bits)
        let file = source.encoded(oneBit: true, filter: 2)
        XCTAssertEqual(file[24], 1, "IHDR bit depth")
        XCTAssertEqual(try PNGImage.decode(file, path: "bits.png"), source)
    }

    func testAFlippedBitIsACRCMismatch() {
        var file = image.encoded()
        file[file.count - 20] ^= 0x10 // inside IDAT
        XCTAssertThrowsError(try PNGImage.decode(file, path: "bad.png")) { error in
            XCTAssertTrue("\(error)".hasPrefix("bad.png: malformed header: damaged PNG: CRC mismatch in chunk IDAT"), "\(error)")
        }
    }

    func testTruncatedAndForeignFilesAreNamed() {
        let file = image.encoded()
        XCTAssertThrowsError(try PNGImage.decode(Array(file[0..<40]), path: "cut.png")) { error in
            XCTAssertTrue("\(error)".contains("cut.png: file is truncated"), "\(error)")
        }
        XCTAssertThrowsError(try PNGImage.decode(Array("GIF89a and more".utf8), path: "x.gif")) { error in
            XCTAssertEqual("\(error)", "x.gif: malformed header: damaged PNG: the PNG signature is missing")
        }
    }

    func testZipEntriesAreReadByNameAndChecked() throws {
        let png = image.encoded()
        let zip = ZipArchive.stored([("a/b.png", png), ("c.txt", Array("hello".utf8))])
        let archive = try ZipArchive(bytes: zip, path: "t.zip")
        XCTAssertEqual(archive.entries.map(\.name), ["a/b.png", "c.txt"])
        XCTAssertEqual(try archive.contents(of: archive.entry(named: "c.txt")!), Array("hello".utf8))
        XCTAssertEqual(try PNGImage.decode(archive.contents(of: archive.entry(named: "a/b.png")!), path: "b"), image)
        var damaged = zip
        damaged[damaged.firstIndex(of: UInt8(ascii: "h"))!] = UInt8(ascii: "j")
        XCTAssertThrowsError(try ZipArchive(bytes: damaged, path: "t.zip").contents(of: archive.entry(named: "c.txt")!)) { error in
            XCTAssertEqual("\(error)", "t.zip!c.txt: malformed header: damaged zip entry: CRC mismatch")
        }
        XCTAssertThrowsError(try ZipArchive(bytes: Array(zip[0..<30]), path: "short.zip")) { error in
            XCTAssertTrue("\(error)".contains("no end-of-central-directory record"), "\(error)")
        }
    }

    func testAreaResizeAveragesCoveredAreas() {
        // 3 -> 2: each output pixel covers 1.5 input pixels.
        let out = AreaResize.resize([0, 3, 6, 0, 3, 6], height: 2, width: 3, outHeight: 1, outWidth: 2)
        XCTAssertEqual(out.count, 2)
        XCTAssertEqual(out[0], 1, accuracy: 1e-6)
        XCTAssertEqual(out[1], 5, accuracy: 1e-6)
    }

    func testOmniglotFolderLayoutAndItsMessages() throws {
        let dir = try makeTemporaryDirectory(self)
        let ink = PNGImage(width: 4, height: 4, pixels: [UInt8](repeating: 255, count: 12) + [0, 0, 0, 0])
        for character in ["character01", "character02"] {
            let folder = "\(dir)/images_background_small1/Alpha/\(character)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for d in 1...3 { _ = try writeFile(folder, "x_\(d).png", bytes: ink.encoded(oneBit: true)) }
        }
        // The same characters again in a zip of a second split are counted once.
        let second = ZipArchive.stored([("images_background_small2/Alpha/character01/x_1.png", ink.encoded()),
                                        ("images_background_small2/Beta/character01/y_1.png", ink.encoded())])
        _ = try writeFile(dir, "images_background_small2.zip", bytes: second)
        let data = try Omniglot.characters(directory: dir, side: 2)
        XCTAssertEqual(data.classNames, ["Alpha/character01", "Alpha/character02", "Beta/character01"])
        XCTAssertEqual(data.classCounts, [3, 3, 1])
        XCTAssertEqual(data.sampleShape, [1, 2, 2])
        for (value, expected) in zip(data.sampleFeatures(0), [Float(0), 0, 0.5, 0.5]) {
            XCTAssertEqual(value, expected, accuracy: 1e-6, "ink (black) is 1, paper 0, area-averaged")
        }

        let empty = try makeTemporaryDirectory(self)
        XCTAssertThrowsError(try Omniglot.characters(directory: empty)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(empty): no dataset files found (looked for images_background*.zip"), "\(error)")
        }
        _ = try writeFile(empty, "images_background.zip", bytes: Array("not a zip at all, really not one".utf8))
        XCTAssertThrowsError(try Omniglot.characters(directory: empty)) { error in
            XCTAssertTrue("\(error)".contains("images_background.zip: malformed header: not a readable zip archive"), "\(error)")
        }
    }

    func testOneShotRunsPairTestDrawingsWithTheirClass() throws {
        let dir = try makeTemporaryDirectory(self)
        let a = PNGImage(width: 2, height: 2, pixels: [0, 0, 0, 0]), b = PNGImage(width: 2, height: 2, pixels: [255, 255, 255, 255])
        let labels = "run01/test/item01.png run01/training/class02.png\nrun01/test/item02.png run01/training/class01.png\n"
        let zip = ZipArchive.stored([("run01/class_labels.txt", Array(labels.utf8)),
                                     ("run01/training/class01.png", a.encoded()), ("run01/training/class02.png", b.encoded()),
                                     ("run01/test/item01.png", b.encoded()), ("run01/test/item02.png", a.encoded())])
        _ = try writeFile(dir, "all_runs.zip", bytes: zip)
        let runs = try Omniglot.oneShotRuns(directory: dir, side: 2)
        XCTAssertEqual(runs.count, 1)
        XCTAssertEqual(runs[0].testLabels, [1, 0])
        XCTAssertEqual(runs[0].training, [1, 1, 1, 1, 0, 0, 0, 0])
        XCTAssertEqual(runs[0].test, [0, 0, 0, 0, 1, 1, 1, 1])
    }
}

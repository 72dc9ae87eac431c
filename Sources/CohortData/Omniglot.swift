import Foundation

/// Omniglot (Lake et al.) read from its own release layout in a directory the user names:
/// the split archives (`images_background.zip`, `images_background_small1.zip`, ...) or
/// their extracted folders, each `split/alphabet/character/drawing.png`, and Lake's
/// twenty one-shot runs (`all_runs.zip` or `all_runs/`, `runNN/class_labels.txt`).
///
/// Drawings become [1, side, side] images with strokes at 1 and paper at 0, shrunk by
/// area averaging. A character that appears in several splits (the small splits share
/// Greek and Latin) is counted once, under `alphabet/character`.
public enum Omniglot {
    /// The release's split names this loader recognises (prefix match).
    public static let splitPrefixes = ["images_background", "images_evaluation"]

    /// One of Lake's within-alphabet 20-way one-shot runs.
    public struct OneShotRun: Sendable {
        public let name: String
        /// One drawing per class, `[classes, 1, side, side]` flattened.
        public let training: [Float]
        /// The drawings to classify, flattened the same way.
        public let test: [Float]
        /// For each test drawing, the index of its class among `training`.
        public let testLabels: [Int]
        public var classCount: Int { testLabels.count }
    }

    // MARK: Characters

    /// Every character of the splits whose names start with `splits` (default: all
    /// background splits), labelled in sorted `alphabet/character` order.
    public static func characters(directory: String, splits: [String] = ["images_background"], side: Int = 28) throws -> Dataset {
        let sources = try splitSources(directory: directory, splits: splits)
        var drawings: [String: [(name: String, source: String, read: () throws -> [UInt8])]] = [:]
        for source in sources {
            for file in try source.files() {
                let parts = file.name.split(separator: "/").map(String.init)
                guard parts.count == 3, parts[2].lowercased().hasSuffix(".png") else { continue }
                let key = parts[0] + "/" + parts[1]
                // The first split that holds a character supplies it.
                if drawings[key]?.contains(where: { $0.name == parts[2] }) == true { continue }
                drawings[key, default: []].append((parts[2], source.label, file.read))
            }
        }
        guard !drawings.isEmpty else {
            throw DatasetError.missingDatasetFiles(directory: directory, looked: sources.map { $0.label + "/<alphabet>/<character>/*.png" })
        }
        let names = drawings.keys.sorted()
        var features: [Float] = [], labels: [Int32] = []
        for (label, key) in names.enumerated() {
            for drawing in drawings[key]!.sorted(by: { $0.name < $1.name }) {
                let where_ = "\(drawing.source)/\(key)/\(drawing.name)"
                let image = try PNGImage.decode(try drawing.read(), path: where_)
                features += shrink(image, side: side)
                labels.append(Int32(label))
            }
        }
        return try Dataset(name: "omniglot", sampleShape: [1, side, side], features: features, labels: labels,
                           classCount: names.count, classNames: names)
    }

    /// Lake's twenty one-shot runs from `all_runs.zip` or `all_runs/` in `directory`.
    public static func oneShotRuns(directory: String, side: Int = 28) throws -> [OneShotRun] {
        let zip = (directory as NSString).appendingPathComponent("all_runs.zip")
        let folder = (directory as NSString).appendingPathComponent("all_runs")
        let source: Source
        if FileManager.default.fileExists(atPath: zip) {
            source = try Source.archive(path: zip, tag: "all_runs", root: nil)
        } else if isDirectory(folder) {
            source = Source.folder(path: folder, tag: "all_runs")
        } else {
            throw DatasetError.missingDatasetFiles(directory: directory, looked: ["all_runs.zip", "all_runs/runNN/class_labels.txt"])
        }
        let files = try source.files()
        var byName: [String: () throws -> [UInt8]] = [:]
        for f in files { byName[f.name] = f.read }
        let runNames = Set(files.compactMap { f -> String? in
            let parts = f.name.split(separator: "/")
            return parts.count == 2 && parts[1] == "class_labels.txt" ? String(parts[0]) : nil
        }).sorted()
        guard !runNames.isEmpty else {
            throw DatasetError.missingDatasetFiles(directory: source.label, looked: ["runNN/class_labels.txt"])
        }
        return try runNames.map { run in
            let labelsName = "\(run)/class_labels.txt"
            let text = String(decoding: try byName[labelsName]!(), as: UTF8.self)
            var pairs: [(test: String, train: String)] = []
            for (i, line) in text.split(whereSeparator: \.isNewline).enumerated() {
                let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
                guard !fields.isEmpty else { continue }
                guard fields.count == 2 else {
                    throw DatasetError.badCSVRow(path: "\(source.label)/\(labelsName)", line: i + 1, reason: "expected 'test/itemNN.png training/classNN.png'")
                }
                // Paths in the file carry the run folder ("run01/test/item01.png").
                func local(_ p: String) -> String { p.hasPrefix(run + "/") ? p : run + "/" + p }
                pairs.append((local(fields[0]), local(fields[1])))
            }
            let trainingNames = Array(Set(pairs.map(\.train))).sorted()
            func image(_ name: String) throws -> [Float] {
                guard let read = byName[name] else { throw DatasetError.fileNotFound(path: "\(source.label)/\(name)") }
                return shrink(try PNGImage.decode(try read(), path: "\(source.label)/\(name)"), side: side)
            }
            var training: [Float] = [], test: [Float] = [], labels: [Int] = []
            for name in trainingNames { training += try image(name) }
            for pair in pairs {
                test += try image(pair.test)
                labels.append(trainingNames.firstIndex(of: pair.train)!)
            }
            return OneShotRun(name: run, training: training, test: test, testLabels: labels)
        }
    }

    /// Ink at 1, paper at 0, area-averaged to `side x side`.
    public static func shrink(_ image: PNGImage, side: Int) -> [Float] {
        let ink = image.pixels.map { 1 - Float($0) / 255 }
        if image.width == side && image.height == side { return ink }
        return AreaResize.resize(ink, height: image.height, width: image.width, outHeight: side, outWidth: side)
    }

    // MARK: Sources

    /// A split held as a zip archive or as an extracted folder; file names are relative
    /// to the split's root (`alphabet/character/drawing.png`).
    struct Source {
        var label: String
        var tag: String
        var files: () throws -> [(name: String, read: () throws -> [UInt8])]

        init(label: String, tag: String, files: @escaping () throws -> [(name: String, read: () throws -> [UInt8])]) {
            self.label = label
            self.tag = tag
            self.files = files
        }

        static func archive(path: String, tag: String, root: String?) throws -> Source {
            let zip = try ZipArchive(path: path)
            return Source(label: path, tag: tag) {
                zip.entries.filter { !$0.isDirectory }.compactMap { e in
                    var name = e.name
                    // Archives hold the split's folder at their top ("images_background_small1/...").
                    if let root, name.hasPrefix(root + "/") { name = String(name.dropFirst(root.count + 1)) }
                    return (name, { try zip.contents(of: e) })
                }
            }
        }

        static func folder(path: String, tag: String) -> Source {
            Source(label: path, tag: tag) {
                let manager = FileManager.default
                guard let walker = manager.enumerator(atPath: path) else { throw DatasetError.unreadable(path: path, reason: "cannot list") }
                var out: [(String, () throws -> [UInt8])] = []
                while let relative = walker.nextObject() as? String {
                    let full = (path as NSString).appendingPathComponent(relative)
                    guard !isDirectory(full) else { continue }
                    out.append((relative, {
                        guard let data = manager.contents(atPath: full) else { throw DatasetError.unreadable(path: full, reason: "cannot read") }
                        return [UInt8](data)
                    }))
                }
                return out.sorted { $0.0 < $1.0 }
            }
        }
    }

    /// The splits in `directory` whose names start with one of `splits`: archives
    /// (`NAME.zip`) and folders (`NAME/`); an archive and its extracted folder count once.
    static func splitSources(directory: String, splits: [String]) throws -> [Source] {
        guard isDirectory(directory) else {
            throw FileManager.default.fileExists(atPath: directory)
                ? DatasetError.invalidArgument("\(directory): is a file; name the directory that holds Omniglot's images_background*.zip files or folders")
                : DatasetError.fileNotFound(path: directory)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        var sources: [Source] = [], seen = Set<String>()
        for name in names {
            let stem = name.hasSuffix(".zip") ? String(name.dropLast(4)) : name
            guard splits.contains(where: { stem.hasPrefix($0) }), !seen.contains(stem) else { continue }
            let full = (directory as NSString).appendingPathComponent(name)
            if name.hasSuffix(".zip") {
                seen.insert(stem)
                sources.append(try Source.archive(path: full, tag: stem, root: stem))
            } else if isDirectory(full) {
                seen.insert(stem)
                sources.append(Source.folder(path: full, tag: stem))
            }
        }
        guard !sources.isEmpty else {
            throw DatasetError.missingDatasetFiles(directory: directory, looked: splits.flatMap { ["\($0)*.zip", "\($0)*/<alphabet>/<character>/*.png"] })
        }
        return sources
    }

    static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }
}

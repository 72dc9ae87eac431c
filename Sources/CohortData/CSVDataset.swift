#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads a classification dataset from a CSV file (raw or gzip-compressed): numeric feature
/// columns plus one label column.
///
/// Lines may end in `\n` or `\r\n`; blank lines are skipped; a field may be wrapped in
/// double quotes (quoted fields cannot contain the delimiter). Every row must have the
/// first row's number of fields and every feature a finite number, or loading stops with
/// one message naming the file and the line.
public enum CSVDataset {
    /// Which column holds the label.
    public enum LabelColumn: Sendable, Equatable {
        case first
        case last
        /// A zero-based column index.
        case index(Int)
        /// A column named in the header row (implies a header).
        case named(String)
    }

    /// Whether the first non-blank line names the columns.
    public enum Header: Sendable, Equatable {
        /// A header if any of the first row's feature fields is not a number.
        case automatic
        case present
        case absent
    }

    /// How label fields become class indices.
    public enum Labels: Sendable, Equatable {
        /// Non-negative integers (`3` or `3.0`) that are the class indices themselves.
        case integers
        /// Arbitrary strings; the distinct values, sorted, become classes `0, 1, ...` and
        /// the dataset's `classNames`.
        case names
    }

    /// How to read a file.
    public struct Options: Sendable, Equatable {
        public var labelColumn: LabelColumn
        public var header: Header
        public var labels: Labels
        /// The field separator, one ASCII character.
        public var delimiter: Character
        /// The number of classes; by default one more than the largest integer label (or
        /// the number of distinct names).
        public var classCount: Int?
        /// The shape of one sample; by default `[featureCount]`.
        public var sampleShape: [Int]?

        public init(labelColumn: LabelColumn = .last, header: Header = .automatic, labels: Labels = .integers,
                    delimiter: Character = ",", classCount: Int? = nil, sampleShape: [Int]? = nil) {
            self.labelColumn = labelColumn
            self.header = header
            self.labels = labels
            self.delimiter = delimiter
            self.classCount = classCount
            self.sampleShape = sampleShape
        }
    }

    // MARK: Loading

    /// Reads the CSV file at `path` into a dataset named `name` (the file name by default).
    public static func load(_ path: String, name: String? = nil, options: Options = Options()) throws -> Dataset {
        guard let delimiter = options.delimiter.asciiValue, options.delimiter != "\"" else {
            throw DatasetError.invalidArgument("CSV delimiter must be one ASCII character other than a quote, got '\(options.delimiter)'")
        }
        return try parse(DataFile.read(path), source: path, name: name ?? defaultName(path),
                         options: options, delimiter: delimiter)
    }

    /// Reads CSV text held in memory (raw or gzip-compressed); `source` names it in errors.
    public static func load(bytes: [UInt8], source: String, name: String, options: Options = Options()) throws -> Dataset {
        guard let delimiter = options.delimiter.asciiValue, options.delimiter != "\"" else {
            throw DatasetError.invalidArgument("CSV delimiter must be one ASCII character other than a quote, got '\(options.delimiter)'")
        }
        let text = Gzip.isCompressed(bytes) ? try bytes.withUnsafeBytes { try Gzip.decompress($0, path: source) } : bytes
        return try parse(text, source: source, name: name, options: options, delimiter: delimiter)
    }

    private static func parse(_ bytes: [UInt8], source: String, name: String, options: Options,
                              delimiter: UInt8) throws -> Dataset {
        var text = bytes
        text.append(0) // strtod stops at the terminator after the last field
        return try text.withUnsafeBufferPointer { buffer in
            try parse(buffer, path: source, name: name, options: options, delimiter: delimiter)
        }
    }

    // MARK: Parsing

    private static func parse(_ text: UnsafeBufferPointer<UInt8>, path: String, name: String,
                              options: Options, delimiter: UInt8) throws -> Dataset {
        let end = text.count - 1 // the terminator
        var fields: [Range<Int>] = []
        var position = 0
        var lineNumber = 0
        var columnCount = 0
        var labelIndex = 0
        var headerChecked = false
        var referenceLine = 0
        var features: [Float] = []
        var numericLabels: [Int32] = []
        var nameLabels: [String] = []
        var largestLabel = -1

        while position < end {
            // One line: [position, lineEnd), without its line break.
            var lineEnd = position
            while lineEnd < end && text[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd + 1
            lineNumber += 1
            var contentEnd = lineEnd
            if contentEnd > position && text[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            defer { position = next }
            if isBlank(text, position, contentEnd) { continue }

            splitFields(text, position, contentEnd, delimiter: delimiter, into: &fields)

            if !headerChecked {
                headerChecked = true
                referenceLine = lineNumber
                columnCount = fields.count
                guard columnCount >= 2 else {
                    throw DatasetError.badCSVRow(path: path, line: lineNumber,
                                                 reason: "found \(columnCount) column; need at least one feature and a label")
                }
                let isHeader: Bool
                switch options.header {
                case .present: isHeader = true
                case .absent: isHeader = false
                case .automatic:
                    if case .named = options.labelColumn {
                        isHeader = true
                    } else {
                        let provisional = try resolveLabelColumn(options.labelColumn, columnCount: columnCount,
                                                                 header: nil, path: path, line: lineNumber)
                        isHeader = fields.indices.contains { column in
                            column != provisional && number(text, fields[column]) == nil
                        }
                    }
                }
                let names = isHeader ? fields.map { string(text, $0) } : nil
                labelIndex = try resolveLabelColumn(options.labelColumn, columnCount: columnCount,
                                                    header: names, path: path, line: lineNumber)
                if isHeader { continue }
            }

            guard fields.count == columnCount else {
                throw DatasetError.badCSVRow(
                    path: path, line: lineNumber,
                    reason: "found \(fields.count) fields, expected \(columnCount) as in line \(referenceLine)")
            }
            for (column, field) in fields.enumerated() where column != labelIndex {
                guard let value = number(text, field) else {
                    throw DatasetError.badCSVRow(
                        path: path, line: lineNumber,
                        reason: "field \(column + 1) '\(string(text, field))' is not a finite number")
                }
                features.append(Float(value))
            }
            let labelField = fields[labelIndex]
            switch options.labels {
            case .names:
                nameLabels.append(string(text, labelField))
            case .integers:
                guard let value = number(text, labelField), value >= 0, value <= Double(Int32.max),
                      value == value.rounded() else {
                    throw DatasetError.badCSVRow(
                        path: path, line: lineNumber,
                        reason: "label '\(string(text, labelField))' in column \(labelIndex + 1) is not a non-negative integer class index (for text labels read the file with class names)")
                }
                numericLabels.append(Int32(value))
                largestLabel = max(largestLabel, Int(value))
            }
        }

        let sampleCount = options.labels == .names ? nameLabels.count : numericLabels.count
        guard sampleCount > 0 else { throw DatasetError.empty(path: path) }
        let featureCount = columnCount - 1
        let shape = options.sampleShape ?? [featureCount]
        guard shape.reduce(1, *) == featureCount, shape.allSatisfy({ $0 > 0 }) else {
            throw DatasetError.invalidArgument(
                "\(path): sample shape \(shape) does not hold the file's \(featureCount) features")
        }

        // A model and a split are sized by the class count: an index far past the rows
        // (a typo, an id column) would ask for billions of classes.
        let classLimit = Swift.max(sampleCount, maxClassesWithoutRows)
        if options.labels == .integers, largestLabel >= classLimit {
            throw DatasetError.invalidArgument(
                "\(path): label \(largestLabel) would make \(largestLabel + 1) classes for \(sampleCount) rows; class indices must be below \(classLimit) (the rows, or \(maxClassesWithoutRows))")
        }
        var labels = numericLabels
        var classNames: [String]? = nil
        var classCount = largestLabel + 1
        if options.labels == .names {
            let distinct = Array(Set(nameLabels)).sorted()
            let indexOf = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, Int32($0)) })
            labels = nameLabels.map { indexOf[$0]! }
            classNames = distinct
            classCount = distinct.count
        }
        if let requested = options.classCount {
            guard requested <= classLimit else {
                throw DatasetError.invalidArgument("\(path): a class count of \(requested) is more than \(classLimit) (the rows, or \(maxClassesWithoutRows))")
            }
            guard requested >= classCount else {
                throw DatasetError.invalidArgument(
                    "\(path): labels need \(classCount) classes but the class count is \(requested)")
            }
            if classNames != nil, requested != classCount {
                throw DatasetError.invalidArgument(
                    "\(path): \(classCount) distinct label names but the class count is \(requested)")
            }
            classCount = requested
        }
        return Dataset(validatedName: name, sampleShape: shape, features: features, labels: labels,
                       classCount: classCount, classNames: classNames)
    }

    /// Classes a CSV may have whatever its row count (a few rows of a many-class set).
    public static let maxClassesWithoutRows = 65_536

    private static func resolveLabelColumn(_ column: LabelColumn, columnCount: Int, header: [String]?,
                                           path: String, line: Int) throws -> Int {
        switch column {
        case .first: return 0
        case .last: return columnCount - 1
        case let .index(index):
            guard index >= 0 && index < columnCount else {
                throw DatasetError.invalidArgument(
                    "\(path): label column \(index) is outside the file's \(columnCount) columns (0..<\(columnCount))")
            }
            return index
        case let .named(label):
            guard let header else {
                throw DatasetError.invalidArgument("\(path): a label column named '\(label)' needs a header row")
            }
            guard let index = header.firstIndex(of: label) else {
                throw DatasetError.badCSVRow(path: path, line: line,
                                             reason: "no column named '\(label)' in the header (\(header.joined(separator: ", ")))")
            }
            return index
        }
    }

    // MARK: Fields

    private static func isBlank(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end {
            if text[i] != 0x20 && text[i] != 0x09 { return false }
            i += 1
        }
        return true
    }

    /// Field ranges without surrounding spaces or quotes.
    private static func splitFields(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                                    delimiter: UInt8, into fields: inout [Range<Int>]) {
        fields.removeAll(keepingCapacity: true)
        var fieldStart = start
        var i = start
        while true {
            if i == end || text[i] == delimiter {
                var low = fieldStart, high = i
                while low < high && (text[low] == 0x20 || text[low] == 0x09) { low += 1 }
                while high > low && (text[high - 1] == 0x20 || text[high - 1] == 0x09) { high -= 1 }
                if high - low >= 2 && text[low] == 0x22 && text[high - 1] == 0x22 { low += 1; high -= 1 }
                fields.append(low ..< high)
                if i == end { return }
                fieldStart = i + 1
            }
            i += 1
        }
    }

    /// The field as a finite number, or nil if it is anything else.
    private static func number(_ text: UnsafeBufferPointer<UInt8>, _ field: Range<Int>) -> Double? {
        guard !field.isEmpty else { return nil }
        // strtod also reads "inf", "nan" and hex; only plain decimal numbers are data here.
        for i in field {
            switch text[i] {
            case 0x30 ... 0x39, 0x2B, 0x2D, 0x2E, 0x45, 0x65: continue // 0-9 + - . E e
            default: return nil
            }
        }
        return text.baseAddress!.withMemoryRebound(to: CChar.self, capacity: text.count) { chars in
            var stop: UnsafeMutablePointer<CChar>? = nil
            let value = strtod(chars + field.lowerBound, &stop)
            guard let stop, stop == UnsafeMutablePointer(mutating: chars + field.upperBound), value.isFinite else {
                return nil
            }
            return value
        }
    }

    private static func string(_ text: UnsafeBufferPointer<UInt8>, _ field: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: text[field]), as: UTF8.self)
    }

    private static func defaultName(_ path: String) -> String {
        var name = path.split(separator: "/").last.map(String.init) ?? path
        for suffix in [".gz", ".csv", ".tsv", ".txt"] where name.hasSuffix(suffix) {
            name.removeLast(suffix.count)
        }
        return name
    }
}

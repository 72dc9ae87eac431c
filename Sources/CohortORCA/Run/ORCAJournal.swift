import CohortFiles
import Foundation

/// The run's journal (rank 0): one line per event, appended as it happens. Events:
/// `distance` (a variant's embedder-to-text MMD² before training), `align` (a stage-1
/// epoch) and `epoch` (a stage-2 epoch). On resume the lines past each variant's
/// checkpoint are dropped first (and recomputed: training is deterministic).
final class ORCAJournal {
    private(set) var events: [JSONValue]
    private let writer: JournalWriter

    /// `covered(variant)`: the stage-1 and stage-2 epochs its checkpoint holds.
    init(run: RunDirectory, resume: Bool, covered: (String) -> (align: Int, train: Int)) throws {
        events = []
        if resume, let data = FileManager.default.contents(atPath: run.journalURL.path) {
            events = try JSONLines.parse(data).values.filter { e in
                guard let variant = e["variant"]?.stringValue, let kind = e["event"]?.stringValue else { return false }
                let c = covered(variant)
                switch kind {
                case "distance": return true
                case "align": return (e["epoch"]?.intValue ?? .max) <= c.align
                case "epoch": return (e["epoch"]?.intValue ?? .max) <= c.train
                default: return false
                }
            }
            try AtomicFile.write(events.map { $0.description + "\n" }.joined(), to: run.journalURL)
        }
        writer = try JournalWriter(url: run.journalURL, durability: .written)
    }

    func append(_ event: JSONValue) throws {
        try writer.append(event)
        events.append(event)
    }

    func select(_ variant: String, _ kind: String) -> [JSONValue] {
        events.filter { $0["variant"]?.stringValue == variant && $0["event"]?.stringValue == kind }
    }
}

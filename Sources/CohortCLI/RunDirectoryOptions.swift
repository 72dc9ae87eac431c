import CohortFiles
import ArgumentParser

/// The options of every command that writes a resumable run directory (`cohort tune`,
/// `cohort fed`): spelled and meaning the same everywhere.
struct RunDirectoryOptions: ParsableArguments {
    @Option(name: .long, help: "The run's config (YAML or JSON).")
    var config: String?

    @Option(name: .long, help: "The run directory (default runs/<name>).")
    var out: String?

    @Flag(name: .long, help: "Continue the run in --out from its journal (and checkpoints).")
    var resume = false

    @Flag(name: .long, help: "No progress lines.")
    var quiet = false

    @Flag(name: .long, help: "Write journal lines without fsync (faster; survives a killed process, not a crashed machine).")
    var noFsync = false
}

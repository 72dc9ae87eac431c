import CohortFiles
import ArgumentParser
import CohortTune
import Foundation

/// `cohort bench agreement`: does the simulated farm decide what the real one did?
struct BenchAgreementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agreement",
        abstract: "Compare the decisions of a simulated run with those of a real run of the same config.",
        discussion: """
        Both directories are run directories of the same config, e.g.
          cohort tune --config C --simulate-workers 4 --out sim
          scripts/mpirun.sh -np 5 cohort tune --config C --out real
          cohort bench agreement --simulated sim --real real
        Exits non-zero when the order of decisions and results differs, and says where and why.
        """)

    @Option(help: "The simulated run directory.")
    var simulated: String

    @Option(help: "The real run directory.")
    var real: String

    func run() throws {
        let (sim, realEvents): ([JournalEvent], [JournalEvent])
        do {
            sim = try Self.events(simulated)
            realEvents = try Self.events(real)
        } catch {
            throw TuneRunner.TuneInputError("\(error)")
        }
        let comparison = DecisionTrace.compare(simulated: sim, real: realEvents)
        print(comparison.explanation)
        if !comparison.matches {
            FileHandle.standardError.write(Data("the simulated and the real run make different decisions (above)\n".utf8))
            throw ExitCode(1)
        }
    }

    static func events(_ path: String) throws -> [JournalEvent] {
        let run = RunDirectory(URL(fileURLWithPath: path))
        let config = try TuneConfig.load(contentsOf: run.configURL)
        return try JournalContents.read(url: run.journalURL, space: config.space).events
    }
}

import XCTest
@testable import CohortFiles

final class RunDirectoryTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func testCreateRefusesAnExistingRunAndResumeReadsItsConfig() throws {
        let run = RunDirectory(folder.appendingPathComponent("a"))
        _ = try run.create(configText: "seed: 1\n")
        XCTAssertThrowsError(try run.create(configText: "seed: 2\n")) { error in
            XCTAssertEqual(error as? RunDirectoryError, .exists(run.path))
        }
        // Created whole: config, empty journal, checkpoints/, nothing staged beside it.
        XCTAssertEqual(try run.configTextForResume(), "seed: 1\n")
        XCTAssertTrue(run.journalIsEmpty)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.checkpointsURL.path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["a"])
        try JournalWriter(url: run.journalURL).append(line: "{}")
        XCTAssertFalse(run.journalIsEmpty)
        XCTAssertEqual(RunDirectory.list(under: folder).map(\.path), [run.path])
    }

    func testCreateHoldsTheLockAndAnAbandonedStagingDirectoryIsCleared() throws {
        let run = RunDirectory(folder.appendingPathComponent("b"))
        // What a process killed mid-create leaves: a hidden staging directory of a pid that no longer runs.
        let dead = folder.appendingPathComponent(".b.creating-\(ProcessInfo.processInfo.hostName)-999999999")
        try FileManager.default.createDirectory(at: dead, withIntermediateDirectories: false)
        var first: RunLock? = try run.create(configText: "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead.path))
        XCTAssertThrowsError(try run.lock()) { error in
            guard case .inUse(let path, let who)? = error as? RunDirectoryError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, run.path)
            XCTAssertEqual(who, "pid \(getpid()) on \(ProcessInfo.processInfo.hostName)")
        }
        XCTAssertNotNil(first)
        first = nil
        XCTAssertNoThrow(try run.lock())
    }

    func testCreateOverAnEmptyDirectoryWorksAndOverAFileIsOneLine() throws {
        let empty = RunDirectory(folder.appendingPathComponent("empty"))
        try FileManager.default.createDirectory(at: empty.url, withIntermediateDirectories: false)
        XCTAssertNoThrow(try empty.create(configText: "x: 1\n"))
        let blocked = RunDirectory(folder.appendingPathComponent("file/run"))
        try Data().write(to: folder.appendingPathComponent("file"))
        XCTAssertThrowsError(try blocked.create(configText: "")) { error in
            guard case .cannotCreate(let path, _)? = error as? RunDirectoryError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, blocked.path)
        }
    }

    func testAtomicWriteReplacesWholeFilesAndLeavesNoTemporaries() throws {
        let url = folder.appendingPathComponent("best.json")
        try AtomicFile.write(.object([("b", .number(1)), ("a", .string("x"))]), to: url)
        try AtomicFile.write("second\n", to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "second\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["best.json"])
        XCTAssertThrowsError(try AtomicFile.write("x", to: folder.appendingPathComponent("missing/f")))
    }

    func testJournalResumesAfterCuttingATornLine() throws {
        let url = folder.appendingPathComponent("events.jsonl")
        let writer = try JournalWriter(url: url)
        try writer.append(.object([("event", .string("start"))]))
        try writer.append(bytes: Data("{\"event\":\"to".utf8))
        let torn = try JSONLines.parse(Data(contentsOf: url))
        XCTAssertTrue(torn.droppedTornLine)
        XCTAssertEqual(torn.values.count, 1)
        let resumed = try JournalWriter(url: url, truncatingTo: UInt64(torn.validLength))
        try resumed.append(.object([("event", .string("resume"))]))
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "{\"event\":\"start\"}\n{\"event\":\"resume\"}\n")
    }

    func testBufferedJournalReachesTheFileOnFlush() throws {
        let url = folder.appendingPathComponent("sim.jsonl")
        let writer = try JournalWriter(url: url, durability: .buffered)
        try writer.append(line: "1")
        XCTAssertEqual(try Data(contentsOf: url).count, 0)
        try writer.flush()
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "1\n")
    }

    func testBackgroundCommitMakesEveryTicketDurableInOrderWithFewerSyncsThanLines() throws {
        let url = folder.appendingPathComponent("grouped.jsonl")
        var tickets: [UInt64] = []
        do {
            let writer = try JournalWriter(url: url, durability: .grouped)
            XCTAssertTrue(try writer.isDurable(0), "nothing asked for is durable at once")
            for i in 0..<200 {
                try writer.append(line: "{\"n\":\(i)}")
                tickets.append(writer.commitSoon())
            }
            // Written at once (a kill loses nothing), in order, before any fsync is awaited.
            XCTAssertEqual(try String(contentsOf: url, encoding: .utf8).split(separator: "\n").count, 200)
            XCTAssertEqual(tickets, tickets.sorted())
            XCTAssertEqual(tickets.last, UInt64(try Data(contentsOf: url).count))
            while try !writer.waitDurable(tickets[199], microseconds: 100_000) {}
            XCTAssertTrue(try tickets.allSatisfy { try writer.isDurable($0) })
            XCTAssertGreaterThan(writer.backgroundSyncs, 0)
            XCTAssertLessThanOrEqual(writer.backgroundSyncs, 200)
            try writer.append(line: "{\"n\":200}")
            try writer.commit()
            XCTAssertTrue(try writer.isDurable(tickets[199] + 10))
        }
        // The writer is gone and its thread with it; the file is whole.
        let lines = try JSONLines.parse(Data(contentsOf: url))
        XCTAssertEqual(lines.values.count, 201)
        XCTAssertFalse(lines.droppedTornLine)
    }

    func testWritersWithBackgroundCommitsShutDownCleanly() throws {
        for i in 0..<20 {
            let writer = try JournalWriter(url: folder.appendingPathComponent("w\(i).jsonl"), durability: .grouped)
            try writer.append(line: "{}")
            _ = writer.commitSoon()
        }
        for i in 0..<20 {
            XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("w\(i).jsonl"), encoding: .utf8), "{}\n")
        }
    }
}

import XCTest
@testable import CohortFiles

final class ChildProcessTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private func sh(_ script: String, environment: [String: String] = [:], in dir: String? = nil) -> ChildProcess.Command {
        ChildProcess.Command(arguments: ["/bin/sh", "-c", script], workingDirectory: dir,
                             environment: ChildEnvironment.make(base: ["PATH": "/usr/bin:/bin"], extra: environment),
                             stdoutPath: folder.appendingPathComponent("out").path, stderrPath: folder.appendingPathComponent("err").path)
    }

    private func read(_ name: String) throws -> String { try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) }

    func testSHA256MatchesTheStandardVectorsWhateverTheChunking() throws {
        var empty = SHA256()
        XCTAssertEqual(empty.hexDigest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var abc = SHA256()
        abc.update(Array("abc".utf8))
        XCTAssertEqual(abc.hexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let text = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        for piece in [1, 7, 55, 56, 64, 100] {
            var h = SHA256()
            var i = 0
            while i < text.count { h.update(text[i..<min(text.count, i + piece)]); i += piece }
            XCTAssertEqual(h.hexDigest(), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "pieces of \(piece)")
        }
        let url = folder.appendingPathComponent("million")
        try Data(repeating: UInt8(ascii: "a"), count: 1_000_000).write(to: url)
        XCTAssertEqual(try SHA256.hexDigest(ofFile: url.path), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testExitStatusOutputFilesAndWorkingDirectory() throws {
        let child = try ChildProcess.launch(sh("pwd; echo to-err >&2; exit 3", in: folder.path))
        XCTAssertEqual(child.wait(), .exited(3))
        XCTAssertEqual(try read("out"), folder.path + "\n")
        XCTAssertEqual(try read("err"), "to-err\n")
        // Appended, never truncated: an earlier attempt's output stays.
        XCTAssertEqual(try ChildProcess.launch(sh("echo again")).wait(), .exited(0))
        XCTAssertEqual(try read("out"), folder.path + "\nagain\n")
    }

    func testASignalIsNamedAndAMissingProgramIsOneClearError() throws {
        let t = try ChildProcess.launch(sh("kill -SEGV $$")).wait()
        XCTAssertEqual(t, .signaled(11))
        XCTAssertEqual(t.description, "was killed by signal 11 (SIGSEGV)")
        var missing = sh("")
        missing.arguments = ["no-such-program-here"]
        XCTAssertThrowsError(try ChildProcess.launch(missing)) { error in
            XCTAssertEqual("\(error)", "cannot start no-such-program-here: No such file or directory")
        }
    }

    func testATimeoutKillsTheWholeProcessGroup() throws {
        let pidFile = folder.appendingPathComponent("grandchild").path
        let child = try ChildProcess.launch(sh("sleep 100 & echo $! > \(pidFile); trap '' TERM; sleep 100"))
        let t = child.wait(timeout: 0.5, grace: 0.3)
        guard case let .timedOut(seconds) = t else { return XCTFail("\(t)") }
        XCTAssertGreaterThanOrEqual(seconds, 0.5)
        let grandchild = try XCTUnwrap(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // Reaped by init once killed; give it a moment.
        var alive = true
        for _ in 0..<100 where alive { alive = kill(grandchild, 0) == 0 && !isZombie(grandchild); if alive { usleep(10_000) } }
        XCTAssertFalse(alive, "the program's own child outlived the timeout")
    }

    private func isZombie(_ pid: Int32) -> Bool {
        ((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "").contains(") Z ")
    }

    func testTheLauncherVariablesAndDescriptorsStayBehind() throws {
        let base = ["PATH": "/usr/bin:/bin", "OMPI_COMM_WORLD_RANK": "3", "PMIX_RANK": "3", "SLURM_PROCID": "3", "SLURM_JOB_ID": "77",
                    "OPENBLAS_CORETYPE": "Haswell"]
        var command = sh("env | sort; ls /proc/self/fd >&2")
        command.environment = ChildEnvironment.make(base: base, extra: ["COHORT_TRIAL": "5"])
        // A descriptor of this process without close-on-exec is not inherited.
        let open = Glibc.open(folder.appendingPathComponent("held").path, O_CREAT | O_WRONLY, 0o644)
        defer { close(open) }
        XCTAssertEqual(try ChildProcess.launch(command).wait(), .exited(0))
        let env = try read("out").split(separator: "\n").filter { !$0.hasPrefix("PWD=") && !$0.hasPrefix("SHLVL=") && !$0.hasPrefix("_=") }
        XCTAssertEqual(env, ["COHORT_TRIAL=5", "OPENBLAS_CORETYPE=Haswell", "PATH=/usr/bin:/bin", "SLURM_JOB_ID=77"])
        // 0, 1, 2 and the one ls opens to read the directory.
        let fds = try read("err")
        XCTAssertEqual(fds.split(separator: "\n").count, 4, fds)
    }

    /// A protocol program in sh: answers ok, refuses `bad`, ends on `die`, hangs on `slow`.
    private var responder: String {
        """
        while read -r line <&3; do
          case "$line" in
            *'"op":"bad"'*) printf '%s\\n' '{"ok":false,"error":"no such thing","traceback":"line 1\\nline 2"}' >&4 ;;
            *'"op":"die"'*) echo 'dying now' >&2; exit 7 ;;
            *'"op":"slow"'*) sleep 100 ;;
            *'"op":"exit"'*) exit 0 ;;
            *) printf '%s\\n' '{"ok":true,"protocol":1,"echo":"yes"}' >&4 ;;
          esac
        done
        """
    }

    func testProtocolRequestsRefusalsDeathAndTimeouts() throws {
        let p = try ProtocolProcess(sh(responder), startTimeout: 5)
        XCTAssertEqual(try p.request(.object([("op", .string("train"))]), timeout: 5)["echo"]?.stringValue, "yes")
        XCTAssertThrowsError(try p.request(.object([("op", .string("bad"))]), timeout: 5)) { error in
            XCTAssertEqual("\(error)", "no such thing\nline 1\nline 2")
        }
        XCTAssertTrue(p.isRunning, "a refusal leaves the process running")
        XCTAssertThrowsError(try p.request(.object([("op", .string("die"))]), timeout: 5)) { error in
            XCTAssertEqual("\(error)", "the worker process exited with status 7; its stderr ends:\ndying now")
        }
        XCTAssertFalse(p.isRunning)

        let q = try ProtocolProcess(sh(responder), startTimeout: 5)
        XCTAssertThrowsError(try q.request(.object([("op", .string("slow"))]), timeout: 0.3)) { error in
            guard case .timedOut? = error as? ProtocolProcess.Failure else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(q.isRunning)
        XCTAssertNotNil(q.child.poll(), "killed and reaped")
    }

    func testAProgramThatDoesNotSpeakTheProtocolFailsAtStart() throws {
        XCTAssertThrowsError(try ProtocolProcess(sh("echo hello; echo 'import error' >&2; exit 1"), startTimeout: 5)) { error in
            XCTAssertEqual("\(error)", "the worker process exited with status 1; its stderr ends:\nimport error")
        }
    }
}

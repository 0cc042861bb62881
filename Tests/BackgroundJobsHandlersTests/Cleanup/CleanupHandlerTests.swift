import BackgroundJobsCleanup
import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import BackgroundJobsTesting
import Foundation
import Logging
import Testing

@Suite("Cleanup jobs", .timeLimit(.minutes(2)))
struct CleanupHandlerTests {
    static let day: Duration = .seconds(86_400)

    @Test("temporary files: a dry run lists exactly the old files and emptied folders; the run deletes them and nothing else")
    func temporaryFiles() async throws {
        try await withTemporaryDirectory { base in
            let root = base + "/tmp"
            let outside = base + "/precious.txt"
            try writeFile(outside, "keep me", age: Self.day * 10)
            try writeFile(root + "/old.bin", String(repeating: "a", count: 100), age: Self.day * 2)
            try writeFile(root + "/fresh.bin", "new")
            try writeFile(root + "/cache/old/a.part", "aa", age: Self.day * 3)
            try writeFile(root + "/cache/old/b.part", "bbb", age: Self.day * 3)
            try setAge(root + "/cache/old", Self.day * 3)
            try writeFile(root + "/cache/keep/new.part", "n")
            // A stale link to a file outside the root: the link goes, its target stays.
            try FileManager.default.createSymbolicLink(atPath: root + "/link-out", withDestinationPath: outside)
            let handler = CleanupHandler(configuration: CleanupConfiguration(temporaryRoots: [root], temporaryMaximumAge: Self.day))

            let dry = try await handler.run(CleanupRequest(kind: .tempFiles, dryRun: true))
            let expected = [
                "delete \(root)/cache/old/a.part", "delete \(root)/cache/old/b.part", "delete \(root)/cache/old", "delete \(root)/old.bin",
            ]
            #expect(dry.dryRun)
            #expect(dry.sections.map(\.kind) == [.tempFiles])
            // The link's own time is now (it was just made), so it is not old: it stays in both runs.
            #expect(dry.sections[0].actions == expected)
            #expect(dry.sections[0].deleted == 4)
            #expect(dry.sections[0].bytesFreed == 105)
            #expect(fileExists(root + "/old.bin") && fileExists(root + "/cache/old/a.part"), "a dry run deletes nothing")

            let done = try await handler.run(CleanupRequest(kind: .tempFiles))
            #expect(done.sections[0].actions == expected)
            #expect(done.sections[0].errors.isEmpty)
            #expect(!fileExists(root + "/old.bin") && !fileExists(root + "/cache/old"))
            #expect(fileExists(root + "/fresh.bin") && fileExists(root + "/cache/keep/new.part") && fileExists(root + "/link-out"))
            #expect(fileExists(root), "the root stays")
            #expect(try String(contentsOfFile: outside, encoding: .utf8) == "keep me")
        }
    }

    @Test("a stale symbolic link is deleted as a link; what it points to outside the root is left")
    func staleLink() async throws {
        try await withTemporaryDirectory { base in
            let root = base + "/tmp"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try writeFile(base + "/outside/data.txt", "outside", age: Self.day * 5)
            try FileManager.default.createSymbolicLink(atPath: root + "/to-outside-dir", withDestinationPath: base + "/outside")
            // lutimes is what sets a link's own time; FileManager would follow it.
            var times = [timeval(tv_sec: Int(Date().timeIntervalSince1970) - 5 * 86_400, tv_usec: 0), timeval(tv_sec: Int(Date().timeIntervalSince1970) - 5 * 86_400, tv_usec: 0)]
            #expect(lutimes(root + "/to-outside-dir", &times) == 0)
            let handler = CleanupHandler(configuration: CleanupConfiguration(temporaryRoots: [root], temporaryMaximumAge: Self.day))
            let report = try await handler.run(CleanupRequest(kind: .tempFiles))
            #expect(report.sections[0].actions == ["delete \(root)/to-outside-dir"])
            #expect(!fileExists(root + "/to-outside-dir"))
            #expect(try String(contentsOfFile: base + "/outside/data.txt", encoding: .utf8) == "outside")
        }
    }

    @Test("a root that is not an absolute directory, or is /, is refused with a clear line and nothing else is touched")
    func badRoots() async throws {
        let handler = CleanupHandler(configuration: CleanupConfiguration(temporaryRoots: ["relative/tmp", "/", "/no/such/dir"]))
        let report = try await handler.run(CleanupRequest(kind: .tempFiles))
        #expect(report.sections[0].errors == [
            "the cleanup root relative/tmp is not an absolute path", "the cleanup root / is refused: it would be the whole file system",
            "the cleanup root /no/such/dir is not a directory",
        ])
        #expect(report.sections[0].deleted == 0)
    }

    @Test("logs: old ones are deleted, stale ones compressed (gzip that decompresses to the original), big active ones rotated")
    func logs() async throws {
        try await withTemporaryDirectory { root in
            let big = String(repeating: "line of the active log\n", count: 100)
            try writeFile(root + "/app.log", big)
            try writeFile(root + "/app.log.1", "yesterday's rotation\n")
            try writeFile(root + "/app.log.2.gz", "pretend gzip", age: Self.day / 2)
            let stale = String(repeating: "closed log, not written for days\n", count: 500)
            try writeFile(root + "/jobs/2026-11-20.log", stale, age: Self.day * 3)
            try writeFile(root + "/jobs/ancient.log.4.gz", "gz", age: Self.day * 45)
            try writeFile(root + "/jobs/ancient.log", "ancient", age: Self.day * 40)
            try writeFile(root + "/notes.txt", "not a log", age: Self.day * 90)
            let configuration = CleanupConfiguration(
                logRoots: [root], logRotationSize: 1000, logCompressionAge: Self.day, logRetention: Self.day * 30)
            let handler = CleanupHandler(configuration: configuration)

            let expected = [
                "delete \(root)/jobs/ancient.log", "delete \(root)/jobs/ancient.log.4.gz", "compress \(root)/jobs/2026-11-20.log",
                "rotate \(root)/app.log",
            ]
            let dry = try await handler.run(CleanupRequest(kind: .logs, dryRun: true))
            #expect(dry.sections[0].actions == expected)
            #expect(fileExists(root + "/jobs/ancient.log") && !fileExists(root + "/app.log.3.gz"))

            let done = try await handler.run(CleanupRequest(kind: .logs))
            let section = done.sections[0]
            #expect(section.actions == expected)
            #expect(section.errors.isEmpty, "\(section.errors)")
            #expect((section.deleted, section.compressed, section.rotated) == (2, 1, 1))
            #expect(!fileExists(root + "/jobs/ancient.log") && !fileExists(root + "/jobs/ancient.log.4.gz"))
            #expect(fileExists(root + "/notes.txt"), "files that are not logs are left alone")

            #expect(!fileExists(root + "/jobs/2026-11-20.log"))
            let archive = root + "/jobs/2026-11-20.log.gz"
            #expect(try run("/bin/gzip", ["-t", archive]).status == 0)
            #expect(try run("/bin/gzip", ["-dc", archive]).output == stale)
            #expect(section.bytesFreed > stale.utf8.count / 2, "saved \(section.bytesFreed) bytes")

            // Rotation: .2.gz -> .3.gz, .1 -> .2, app.log -> .1, and a new empty app.log.
            #expect(try String(contentsOfFile: root + "/app.log.1", encoding: .utf8) == big)
            #expect(try String(contentsOfFile: root + "/app.log.2", encoding: .utf8) == "yesterday's rotation\n")
            #expect(try String(contentsOfFile: root + "/app.log.3.gz", encoding: .utf8) == "pretend gzip")
            #expect(try String(contentsOfFile: root + "/app.log", encoding: .utf8) == "")
        }
    }

    @Test("sessions and users go through the cleanup store: a dry run lists, the run deletes them atomically with their sessions")
    func sessionsAndUsers() async throws {
        try await TestRedis.withClient { client, prefix in
            let store = RedisCleanupStore(client: client, prefix: prefix)
            let now = Date()
            func ago(_ days: Double) -> Date { now.addingTimeInterval(-days * 86_400) }
            try await store.saveUser("active", created: ago(400), seen: ago(1), verified: true)
            try await store.saveUser("dormant", created: ago(1000), seen: ago(800), verified: true)
            try await store.saveUser("unverified", created: ago(10), seen: ago(10), verified: false)
            try await store.saveUser("fresh", created: ago(1), seen: ago(1), verified: false)
            try await store.saveUser("gone", created: ago(100), seen: ago(40), verified: true, deleted: ago(31))
            try await store.saveSession("s-live", user: "active", expiresAt: now.addingTimeInterval(3600))
            // Already past its expiry: Redis drops its hash at once, as a session's TTL would later.
            try await store.saveSession("s-expired", user: "active", expiresAt: now.addingTimeInterval(-1), seen: ago(1))
            try await store.saveSession("s-dormant", user: "dormant", expiresAt: now.addingTimeInterval(3600))
            try await store.saveSession("s-orphan", user: "nobody", expiresAt: now.addingTimeInterval(3600), seen: ago(1))
            let handler = CleanupHandler(configuration: CleanupConfiguration(), store: store)
            let later = now.addingTimeInterval(1)
            #expect(try await client.send("EXISTS", "\(prefix):session:s-expired").int == 0, "the expired session's hash is gone")

            let dry = try await handler.run(CleanupRequest(kind: .fullMaintenance, dryRun: true), now: later)
            func section(_ report: CleanupReport, _ kind: CleanupKind) -> CleanupReport.Section? { report.sections.first { $0.kind == kind } }
            #expect(dry.sections.map(\.kind) == [.tempFiles, .logs, .sessions, .inactiveUsers, .unverifiedUsers, .deletedUsers],
                    "job data needs the queue, which this handler has not")
            #expect(section(dry, .sessions)?.actions == ["delete session s-expired", "delete session s-orphan"])
            #expect(section(dry, .inactiveUsers)?.actions == ["delete user dormant"])
            #expect(section(dry, .unverifiedUsers)?.actions == ["delete user unverified"])
            #expect(section(dry, .deletedUsers)?.actions == ["delete user gone"])
            #expect(try await client.send("EXISTS", "\(prefix):user:dormant").int == 1, "a dry run deletes nothing")

            let done = try await handler.run(CleanupRequest(kind: .fullMaintenance), now: later)
            #expect(section(done, .sessions)?.deleted == 2)
            #expect(section(done, .inactiveUsers)?.deleted == 1)
            #expect(section(done, .unverifiedUsers)?.deleted == 1)
            #expect(section(done, .deletedUsers)?.deleted == 1)
            for user in ["dormant", "unverified", "gone"] {
                #expect(try await client.send("EXISTS", "\(prefix):user:\(user)").int == 0)
                #expect(try await client.send("ZSCORE", "\(prefix):users:seen", user).isNull)
            }
            for user in ["active", "fresh"] { #expect(try await client.send("EXISTS", "\(prefix):user:\(user)").int == 1) }
            // The dormant user's session went with the user; the orphan and the expired one went as sessions.
            let sessions = try await client.send("ZRANGE", "\(prefix):sessions", 0, -1).array?.compactMap(\.string)
            #expect(sessions == ["s-live"])
            #expect(try await client.send("SMEMBERS", "\(prefix):user:active:sessions").array?.compactMap(\.string) == ["s-live"])
            #expect(try await client.send("EXISTS", "\(prefix):session:s-dormant").int == 0)
            #expect(try await client.send("HKEYS", "\(prefix):session-users").array?.compactMap(\.string) == ["s-live"])

            let again = try await handler.run(CleanupRequest(kind: .fullMaintenance), now: later)
            #expect(again.sections.allSatisfy { $0.deleted == 0 }, "a second run finds nothing")
        }
    }

    @Test("job data: the dry run counts what the engine's sweep then removes")
    func jobData() async throws {
        let queue = InMemoryJobQueue()
        let now = Date()
        let worker = try WorkerID("w")
        for _ in 0..<3 {
            let job = Job(id: JobID.generate(at: now), name: "x", payload: Array("{}".utf8), options: JobOptions(), maxRetries: 0, createdAt: now)
            _ = try await queue.enqueue(job, limits: QueueLimits())
            let fetched = try #require(try await queue.fetch(for: worker, from: [.default], limit: 1, now: now).jobs.first)
            _ = try await queue.complete(fetched, by: worker, result: nil, now: now)
        }
        let handler = CleanupHandler(configuration: CleanupConfiguration(), queue: queue)
        let far = now.addingTimeInterval(400 * 86_400)
        let dry = try await handler.run(CleanupRequest(kind: .jobData, dryRun: true), now: far)
        #expect(dry.sections.first?.deleted == 3)
        #expect(try await handler.run(CleanupRequest(kind: .jobData), now: far).sections.first?.deleted == 3)
        #expect(try await handler.run(CleanupRequest(kind: .jobData, dryRun: true), now: far).sections.first?.deleted == 0)
    }

    @Test("as a job: the report is the result; a bad duration, or a kind without what it needs, fails for good")
    func asJob() async throws {
        var registry = JobRegistry()
        CleanupHandler(configuration: CleanupConfiguration()).register(into: &registry)
        func outcome(_ payload: String) async throws -> JobOutcome {
            let job = Job(id: JobID.generate(at: Date()), name: "cleanup", payload: Array(payload.utf8), options: JobOptions(), maxRetries: 3, createdAt: Date())
            return try await registry.run(JobContext(job: job, logger: TestRedis.logger))
        }
        guard case .completed(let result?) = try await outcome(#"{"kind": "temp_files", "dry_run": true}"#) else {
            Issue.record("not completed")
            return
        }
        let report = try JSONDecoder().decode(CleanupReport.self, from: Data(result))
        #expect(report.dryRun && report.sections.map(\.kind) == [.tempFiles])
        #expect(String(decoding: result, as: UTF8.self).contains(#""bytes_freed":0"#))

        guard case .failed(let reason, false) = try await outcome(#"{"kind": "logs", "older_than": "soon"}"#) else { Issue.record("should fail"); return }
        #expect(reason == #"older_than "soon" is not a duration such as "12h" or "30d""#)
        guard case .failed(let needs, false) = try await outcome(#"{"kind": "sessions"}"#) else { Issue.record("should fail"); return }
        #expect(needs == "sessions cleanup needs a CleanupStore (the application's sessions and users), and none is configured")
        guard case .failed(let unknown, false) = try await outcome(#"{"kind": "everything"}"#) else { Issue.record("should fail"); return }
        #expect(unknown.hasPrefix("the payload does not decode as CleanupRequest"))
    }
}

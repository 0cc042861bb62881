import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import Foundation
import Synchronization
import Testing

@Suite("A Redis user limited to the prefix and the documented commands", .timeLimit(.minutes(2)))
struct RedisACLTests {
    struct Work: Codable, Sendable {
        var mode: String
    }

    static let work = JobDefinition<Work>("acl_work")

    /// The ACL line of docs/security.md, for `prefix` and `password`.
    static func documentedACL(prefix: String, password: String) throws -> [String] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/security.md").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ACL SETUSER jobs ") }) else {
            throw TestSetupError("docs/security.md has no line starting with ACL SETUSER jobs")
        }
        return line.split(separator: " ").dropFirst(2).map { word in
            switch word {
            case "jobs": "jobs-user"
            case "~jobs:*": "~\(prefix):*"
            case ">CHANGE-ME": ">\(password)"
            default: String(word)
            }
        }
    }

    @Test("submissions, the pool, a takeover, recurring jobs, events and every inspection work as that user; other keys and commands are refused")
    func limitedUser() async throws {
        let server = try await TestRedisServer()
        let admin = try RedisClient(url: server.url, logger: SharedRedis.logger)
        let prefix = "acl\(UInt32.random(in: 0...UInt32.max))"
        let password = "pw-\(UUID().uuidString)"
        _ = try await admin.send(RedisCommand("ACL", arguments: ["SETUSER"] + (try Self.documentedACL(prefix: prefix, password: password))))
        _ = try await admin.send("SET", "other:key", "not yours")

        let client = try RedisClient(url: "redis://jobs-user:\(password)@127.0.0.1:\(server.port)", logger: SharedRedis.logger)
        let keys = try RedisKeys(prefix: prefix)
        let queue = RedisJobQueue(client: client, configuration: try .init(keys: keys), logger: SharedRedis.logger)
        let scheduler = RedisScheduler(client: client, keys: keys, logger: SharedRedis.logger)

        let attempts = Mutex<[String: Int]>([:])
        var registry = JobRegistry()
        registry.register(Self.work, retry: .fixed(.milliseconds(50), maxRetries: 2)) { work, context in
            let attempt = attempts.withLock { counts -> Int in
                counts[context.job.id.rawValue, default: 0] += 1
                return counts[context.job.id.rawValue]!
            }
            try await context.reportProgress(50)
            switch work.mode {
            case "fail-once" where attempt == 1: throw FailOnce()
            case "dead": throw NonRetryableError("dead on purpose")
            case "hang": try await Task.sleep(for: .seconds(30))
            default: break
            }
        }
        let service = JobService(queue: queue, scheduler: scheduler, registry: registry)

        // A worker that died holding a job, for the reaper to take over.
        let crashed = try WorkerID("acl-crashed")
        guard case .submitted(let orphan) = try await service.submit(Self.work, Work(mode: "ok")) else { throw TestSetupError("not stored") }
        try await queue.heartbeat(crashed, ttl: .milliseconds(50))
        #expect(try await queue.fetch(for: crashed, from: ["default"], limit: 1, now: Date()).jobs.map(\.id) == [orphan])

        var ids: [String: JobID] = [:]
        for mode in ["ok", "fail-once", "dead", "hang"] {
            guard case .submitted(let id) = try await service.submit(name: "acl_work", json: Array(#"{"mode":"\#(mode)"}"#.utf8)) else {
                throw TestSetupError("not stored")
            }
            ids[mode] = id
        }
        guard case .submitted(let delayed) = try await service.submit(Self.work, Work(mode: "ok"), options: JobOptions(delay: .milliseconds(300), uniqueKey: "once"))
        else { throw TestSetupError("not stored") }
        #expect(try await service.submit(Self.work, Work(mode: "ok"), options: JobOptions(uniqueKey: "once")) == .duplicate(of: delayed))
        try await service.addRecurring(try RecurringJob(id: "acl-every-second", schedule: Schedule("@every 1s"), name: "acl_work", payload: Array(#"{"mode":"ok"}"#.utf8)))

        let pool = try JobWorkerPoolTests.pool(queue, registry) { $0.concurrency = 4 }
        let recurring = RecurringJobService(scheduler: scheduler, registry: registry, logger: SharedRedis.logger)
        // What the server refused, when something fails: the command the list lacks.
        func refusals() async -> String {
            let log = (try? await admin.send("ACL", "LOG").array) ?? []
            return log.compactMap { entry -> String? in
                let items = entry.array ?? []
                var fields: [String: String] = [:]
                for index in stride(from: 0, to: items.count - 1, by: 2) {
                    if let key = items[index].string { fields[key] = items[index + 1].string ?? "\(items[index + 1])" }
                }
                return "\(fields["reason"] ?? "?") \(fields["object"] ?? "?") (\(fields["context"] ?? "?"))"
            }.joined(separator: "; ")
        }
        defer { _ = admin }
        do {
        try await withRunning([pool, recurring], logger: SharedRedis.logger) {
            try await waitUntil("the jobs ended and the dead worker's job was taken over", timeout: .seconds(30), pollEvery: .milliseconds(50)) {
                let statuses = try await [ids["ok"]!, ids["fail-once"]!, ids["dead"]!, delayed, orphan].asyncMap { try await service.job($0)?.status }
                return statuses == [.completed, .completed, .dead, .completed, .completed]
            }
            try await waitUntil("the hung job runs") { try await service.job(ids["hang"]!)?.status == .processing }
            #expect(try await service.cancel(ids["hang"]!) == .cancelling)
            try await waitUntil("the running job is cancelled") { try await service.job(ids["hang"]!)?.status == .cancelled }
            try await waitUntil("the recurring job fired", timeout: .seconds(10)) {
                try await service.list(.default, status: .completed, limit: 100).jobs.count >= 5
            }
            #expect(try await service.workers().count == 1)
            #expect(try await service.queues() == ["default"])
            let counts = try await service.counts(of: .default)
            #expect(counts.dead == 1)
            #expect(try await service.list(.default, status: .dead).jobs.map(\.id) == [ids["dead"]!])
            #expect(try await service.retry(ids["dead"]!) == .requeued)
            try await waitUntil("the retried dead job ran and died again") { try await service.job(ids["dead"]!)?.status == .dead }
            #expect(try await service.retryAllDead(in: .default) == 1)
            try await service.pause(.default)
            _ = try await service.submit(Self.work, Work(mode: "ok"))
            #expect(try await service.purge(.default) >= 1)
            try await service.resume(.default)
            #expect(try await service.removeRecurring("acl-every-second"))
            #expect(try await queue.sweep(now: Date()) >= 0)
            #expect(try await !queue.events(after: "0-0", timeout: .milliseconds(100)).events.isEmpty, "the event stream reads")
            _ = try await queue.events(after: nil, timeout: .milliseconds(10))
        }
        } catch {
            Issue.record("Redis refused: \(await refusals())")
            throw error
        }
        #expect(await refusals().isEmpty, "Redis refused commands the library sent")
        #expect(try await service.job(orphan)?.stalls == 1)
        #expect(attempts.withLock { $0[ids["fail-once"]!.rawValue] } == 2)

        for command in [RedisCommand("GET", "other:key"), RedisCommand("SET", "other:key", "x"), RedisCommand("KEYS", "*"), RedisCommand("FLUSHALL"),
                        RedisCommand("CONFIG", "GET", "*"), RedisCommand("SCRIPT", "FLUSH")] {
            let error = try await #require(throws: RedisError.self) { try await client.send(command) }
            #expect(error.serverErrorPrefix == "NOPERM", "\(command.name) is refused")
        }
        // A script may not reach past the prefix either.
        let escape = RedisScript("return redis.call('GET', 'other:key')")
        let error = try await #require(throws: RedisError.self) { try await client.run(escape) }
        #expect(error.message.contains("can't access at least one of the keys"), "\(error.message)")
        #expect(try await admin.send("GET", "other:key").string == "not yours")
        await client.close()
        await admin.close()
    }
}

/// A retryable failure.
struct FailOnce: Error, CustomStringConvertible {
    var description: String { "failed once on purpose" }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

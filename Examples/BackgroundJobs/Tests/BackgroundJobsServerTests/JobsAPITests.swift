import BackgroundJobs
import BackgroundJobsServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Testing

@Suite("Demo server HTTP API", .timeLimit(.minutes(3)))
struct JobsAPITests {
    static var logger: Logger {
        var logger = Logger(label: "test.server")
        logger.logLevel = .warning
        return logger
    }

    /// Runs `body` against the router of a job system on the shared Redis under a key prefix of its own,
    /// with its workers running; deletes the prefix's keys afterwards.
    static func withServer(token: String? = nil, _ body: @escaping @Sendable (any TestClientProtocol, JobSystem) async throws -> Void) async throws {
        guard let url = ProcessInfo.processInfo.environment["REDIS_URL"], !url.isEmpty else {
            throw TestFailure("REDIS_URL is not set: run the tests with `make test`")
        }
        let configPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("configs/jobs.yaml").path
        let prefix = "test-server-\(UUID().uuidString)"
        var configuration = try JobSystemConfiguration(yaml: try String(contentsOfFile: configPath, encoding: .utf8))
            .applyingEnvironment(["REDIS_URL": url, "JOBS_KEY_PREFIX": prefix])
        configuration.workerPool.shutdownTimeout = .seconds(1)
        var registry = JobRegistry()
        DemoJobs.register(into: &registry)
        DemoJobs.registerSimulations(into: &registry)
        let system = try JobSystem.live(configuration: configuration, registry: registry, logger: logger)
        let app = Application(router: JobsServer.router(system: system, token: token), logger: logger)
        let group = ServiceGroup(configuration: .init(services: system.services.map { .init(service: $0) }, logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await app.test(.router) { client in try await body(client, system) }
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                try? await deleteKeys(prefix, system)
                await system.shutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        try await deleteKeys(prefix, system)
        await system.shutdown()
    }

    static func deleteKeys(_ prefix: String, _ system: JobSystem) async throws {
        var cursor = "0"
        repeat {
            let reply = try await system.client.send("SCAN", cursor, "MATCH", "\(prefix):*", "COUNT", 1000)
            cursor = reply.array?.first?.string ?? "0"
            let names = reply.array?.last?.array?.compactMap(\.bytes) ?? []
            if !names.isEmpty { _ = try await system.client.send(RedisCommand("DEL", arguments: names)) }
        } while cursor != "0"
    }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
        return try #require(value as? [String: Any])
    }

    static func message(_ response: TestResponse) throws -> String {
        let error = try #require(try object(response)["error"] as? [String: Any])
        return try #require(error["message"] as? String)
    }

    static func post(_ client: any TestClientProtocol, _ uri: String, _ json: String) async throws -> TestResponse {
        try await client.execute(
            uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
    }

    /// Polls the job until it reaches `status`, for at most ten seconds.
    static func waitFor(_ status: String, _ id: String, _ client: any TestClientProtocol) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let job = try object(try await client.execute(uri: "/jobs/\(id)", method: .get))
            if job["status"] as? String == status { return job }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("job \(id) did not become \(status) within ten seconds")
    }

    @Test("a submitted job is answered 201, runs, and keeps its result")
    func submitAndRun() async throws {
        try await Self.withServer { client, _ in
            let response = try await Self.post(client, "/jobs", #"{"type": "reverse_string", "payload": {"text": "hello"}, "priority": "high"}"#)
            #expect(response.status == .created)
            let created = try Self.object(response)
            // The answer is the job as stored when it was read back, which a worker may have taken already.
            #expect(["pending", "processing", "completed"].contains(created["status"] as? String ?? ""))
            #expect(created["priority"] as? String == "high")
            let id = try #require(created["id"] as? String)
            let job = try await Self.waitFor("completed", id, client)
            #expect((job["result"] as? [String: Any])?["reversed"] as? String == "olleh")
            #expect(job["attempts"] as? Int == 1)

            let batch = try await Self.post(
                client, "/jobs/batch",
                #"{"jobs": [{"type": "uppercase_text", "payload": {"text": "a"}}, {"type": "uppercase_text", "payload": {"text": "b"}, "unique_key": "k"}, {"type": "uppercase_text", "payload": {"text": "c"}, "unique_key": "k"}]}"#)
            #expect(batch.status == .created)
            let results = try #require(try Self.object(batch)["results"] as? [[String: Any]])
            #expect(results.compactMap { $0["status"] as? String } == ["submitted", "submitted", "duplicate"])
            for result in results.prefix(2) { _ = try await Self.waitFor("completed", try #require(result["id"] as? String), client) }

            let fibonacci = try Self.object(try await Self.post(client, "/jobs", #"{"type": "fibonacci_calc", "payload": {"n": 90}}"#))
            let done = try await Self.waitFor("completed", try #require(fibonacci["id"] as? String), client)
            #expect((done["result"] as? [String: Any])?["value"] as? Int == 2_880_067_194_370_816_120)
        }
    }

    @Test("every bad request is a 4xx with a message, and stores nothing", arguments: [
        ("/jobs", "{not json", 400, "the body is not valid JSON"),
        ("/jobs", "[1, 2]", 400, "the body must be a JSON object"),
        ("/jobs", #"{"payload": {}}"#, 400, "the body needs \"type\": the job type, a string"),
        ("/jobs", #"{"type": "x"}"#, 400, "the body needs \"payload\": any JSON value"),
        ("/jobs", #"{"type": "x", "payload": {}, "colour": "red"}"#, 400, "the body has the unknown field \"colour\" (known: delay, max_retries, payload, priority, queue, scheduled_at, timeout, type, unique_key)"),
        ("/jobs", #"{"type": "x", "payload": {}, "priority": "urgent"}"#, 400, "\"priority\" must be one of low, normal, high, critical"),
        ("/jobs", #"{"type": "x", "payload": {}, "queue": "email", "priority": "low"}"#, 400, "the queue email does not accept low jobs (it accepts normal, high)"),
        ("/jobs", #"{"type": "x", "payload": {}, "queue": "no spaces"}"#, 400, "the queue name \"no spaces\" may only contain letters, digits, '_', '-' and '.'"),
        ("/jobs", #"{"type": "x", "payload": {}, "delay": "soon"}"#, 400, "\"delay\" must be a duration such as \"30s\" or \"500ms\", or a number of seconds"),
        ("/jobs", #"{"type": "x", "payload": {}, "delay": -5}"#, 400, "the delay must not be negative"),
        ("/jobs", #"{"type": "x", "payload": {}, "scheduled_at": "tomorrow"}"#, 400, "\"scheduled_at\" must be an ISO 8601 time such as 2026-11-23T18:00:00Z"),
        ("/jobs", #"{"type": "x", "payload": {}, "max_retries": "3"}"#, 400, "\"max_retries\" must be a whole number"),
        ("/jobs", #"{"type": "x", "payload": {}, "max_retries": true}"#, 400, "\"max_retries\" must be a whole number"),
        ("/jobs/batch", #"{"jobs": []}"#, 400, "the body must be {\"jobs\": [ ... ]} with at least one job"),
        ("/jobs/batch", #"{"jobs": [{"type": "x", "payload": 1}, {"type": "x"}]}"#, 400, "jobs[1] needs \"payload\": any JSON value"),
    ])
    func badRequests(uri: String, body: String, status: Int, message: String) async throws {
        try await Self.withServer { client, system in
            let response = try await Self.post(client, uri, body)
            #expect(response.status.code == status)
            #expect(try Self.message(response) == message)
            #expect(try await system.service.queues().isEmpty, "nothing was stored")
        }
    }

    @Test("a payload over the limit is 413; unknown ids 404; bad ids, statuses, limits and cursors 400")
    func otherErrors() async throws {
        try await Self.withServer { client, _ in
            let huge = String(repeating: "a", count: 600 * 1024)
            let tooLarge = try await Self.post(client, "/jobs", #"{"type": "x", "payload": "\#(huge)"}"#)
            #expect(tooLarge.status == .contentTooLarge)
            let unknown = try await client.execute(uri: "/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV", method: .get)
            #expect(unknown.status == .notFound)
            let badID = try await client.execute(uri: "/jobs/nope", method: .get)
            #expect(badID.status == .badRequest)
            #expect(try Self.message(badID) == "\"nope\" is not a job id")
            let badStatus = try await client.execute(uri: "/jobs?status=lost", method: .get)
            #expect(badStatus.status == .badRequest)
            let badLimit = try await client.execute(uri: "/jobs?limit=0", method: .get)
            #expect(try Self.message(badLimit) == "limit must be from 1 to 1000")
            let badCursor = try await client.execute(uri: "/jobs?status=dead&cursor=xyz", method: .get)
            #expect(badCursor.status == .badRequest)
        }
    }

    @Test("jobs are listed, cancelled, retried; queues paused and counted; workers and health answer")
    func lifecycle() async throws {
        try await Self.withServer { client, _ in
            try await client.execute(uri: "/queues/cleanup/pause", method: .post) { #expect($0.status == .ok) }
            let waiting = try Self.object(try await Self.post(client, "/jobs", #"{"type": "sleep", "payload": {"ms": 1}, "queue": "cleanup", "priority": "low"}"#))
            let id = try #require(waiting["id"] as? String)
            let list = try Self.object(try await client.execute(uri: "/jobs?queue=cleanup&status=pending", method: .get))
            #expect((list["jobs"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
            #expect(list["next_cursor"] is NSNull)
            try await client.execute(uri: "/jobs/\(id)", method: .delete) { #expect($0.status == .ok) }
            try await client.execute(uri: "/jobs/\(id)", method: .delete) { #expect($0.status == .conflict) }

            let failing = try Self.object(try await Self.post(client, "/jobs", #"{"type": "fail", "payload": {"retryable": false, "message": "no"}}"#))
            let failingID = try #require(failing["id"] as? String)
            let dead = try await Self.waitFor("dead", failingID, client)
            #expect(dead["last_error"] as? String == "no")
            try await client.execute(uri: "/jobs/\(failingID)/retry", method: .post) { #expect($0.status == .ok) }
            _ = try await Self.waitFor("dead", failingID, client)

            let queues = try Self.object(try await client.execute(uri: "/queues", method: .get))
            let cleanup = try #require((queues["queues"] as? [[String: Any]])?.first { $0["queue"] as? String == "cleanup" })
            #expect(cleanup["paused"] as? Bool == true)
            #expect(cleanup["cancelled"] as? Int == 1)

            let workers = try Self.object(try await client.execute(uri: "/workers", method: .get))
            #expect((workers["workers"] as? [Any])?.count == 1)
            try await client.execute(uri: "/health/jobs", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/health/workers", method: .get) { #expect($0.status == .ok) }
            // The pool counts an attempt once the queue has recorded it: a moment after the status shows.
            let deadline = ContinuousClock.now + .seconds(10)
            var counted = false
            while !counted && ContinuousClock.now < deadline {
                let metrics = try await client.execute(uri: "/metrics", method: .get)
                counted = String(buffer: metrics.body).contains(#"background_jobs_processed_total{queue="default",job_type="fail",status="dead"} 2"#)
                if !counted { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(counted)
        }
    }

    @Test("with a token, every route but health and metrics needs it")
    func token() async throws {
        try await Self.withServer(token: "s3cret") { client, _ in
            let refused = try await client.execute(uri: "/queues", method: .get)
            #expect(refused.status == .unauthorized)
            try await client.execute(uri: "/queues", method: .get, headers: [.authorization: "Bearer s3cret"]) { #expect($0.status == .ok) }
            try await client.execute(uri: "/health/jobs", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test("recurring jobs are added, listed, paused and removed over HTTP, with clear errors")
    func schedules() async throws {
        try await Self.withServer { client, _ in
            let created = try await Self.post(
                client, "/schedules",
                #"{"id": "nightly", "schedule": "30 2 * * *", "time_zone": "Europe/Berlin", "type": "uppercase_text", "payload": {"text": "hi"}}"#)
            #expect(created.status == .created)
            let list = try Self.object(try await client.execute(uri: "/schedules", method: .get))
            let entry = try #require((list["schedules"] as? [[String: Any]])?.first)
            #expect(entry["id"] as? String == "nightly")
            #expect(entry["time_zone"] as? String == "Europe/Berlin")
            #expect(entry["next_firing"] is String)
            try await client.execute(uri: "/schedules/nightly/pause", method: .post) { #expect($0.status == .ok) }
            try await client.execute(uri: "/schedules/nightly", method: .delete) { #expect($0.status == .ok) }
            try await client.execute(uri: "/schedules/nightly", method: .delete) { #expect($0.status == .notFound) }

            let badCron = try await Self.post(client, "/schedules", #"{"id": "x", "schedule": "61 * * * *", "type": "t", "payload": {}}"#)
            #expect(badCron.status == .badRequest)
            #expect(try Self.message(badCron) == "the cron minute field \"61\" has 61, outside 0-59")
            let badZone = try await Self.post(client, "/schedules", #"{"id": "x", "schedule": "@daily", "time_zone": "Mars/Base", "type": "t"}"#)
            #expect(try Self.message(badZone) == "unknown time zone \"Mars/Base\"")
        }
    }

    @Test("job events stream as server-sent events")
    func events() async throws {
        try await Self.withServer { client, _ in
            let created = try Self.object(try await Self.post(client, "/jobs", #"{"type": "reverse_string", "payload": {"text": "abc"}}"#))
            let id = try #require(created["id"] as? String)
            _ = try await Self.waitFor("completed", id, client)
            // From the start of this test's fresh stream: the job's three changes.
            let response = try await client.execute(uri: "/events?limit=3", method: .get, headers: [.init("Last-Event-ID")!: "0-0"])
            #expect(response.headers[.contentType] == "text/event-stream")
            let text = String(buffer: response.body)
            #expect(text.components(separatedBy: "event: status").count - 1 == 3)
            #expect(text.contains(#""to":"pending""#) && text.contains(#""to":"processing""#) && text.contains(#""to":"completed""#))
            #expect(text.contains(id))
        }
    }

    @Test("a simulated workload reports progress and ends by its failure rate")
    func simulation() async throws {
        try await Self.withServer { client, _ in
            let ok = try Self.object(try await Self.post(client, "/jobs", #"{"type": "backup", "payload": {"seconds": 0.05, "failure_rate": 0}}"#))
            let done = try await Self.waitFor("completed", try #require(ok["id"] as? String), client)
            #expect(done["progress"] as? Int == 100)
            let failing = try Self.object(
                try await Self.post(client, "/jobs", #"{"type": "data_analysis", "payload": {"seconds": 0, "failure_rate": 1}, "max_retries": 0}"#))
            let dead = try await Self.waitFor("dead", try #require(failing["id"] as? String), client)
            #expect(dead["last_error"] as? String == "simulated data_analysis failure")
        }
    }

    @Test("health answers 503 when Redis does not answer, and when no worker is alive")
    func unhealthy() async throws {
        var configuration = JobSystemConfiguration()
        configuration.redis.url = "redis://127.0.0.1:1"
        let down = try JobSystem.live(configuration: configuration, registry: JobRegistry(), role: .api, logger: Self.logger)
        try await Application(router: JobsServer.router(system: down), logger: Self.logger).test(.router) { client in
            let response = try await client.execute(uri: "/health/jobs", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(try Self.object(response)["redis"] as? String == "down")
            let submit = try await Self.post(client, "/jobs", #"{"type": "x", "payload": {}}"#)
            #expect(submit.status == .serviceUnavailable)
        }
        await down.shutdown()

        guard let url = ProcessInfo.processInfo.environment["REDIS_URL"] else { throw TestFailure("REDIS_URL is not set") }
        var apiOnly = JobSystemConfiguration()
        apiOnly.redis.url = url
        apiOnly.redis.keyPrefix = "test-health-\(UUID().uuidString)"
        let api = try JobSystem.live(configuration: apiOnly, registry: JobRegistry(), role: .api, logger: Self.logger)
        try await Application(router: JobsServer.router(system: api), logger: Self.logger).test(.router) { client in
            try await client.execute(uri: "/health/jobs", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/health/workers", method: .get) { #expect($0.status == .serviceUnavailable) }
        }
        await api.shutdown()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

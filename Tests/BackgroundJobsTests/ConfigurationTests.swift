import BackgroundJobs
import Foundation
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    static var shippedFile: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("configs/jobs.yaml").path
    }

    @Test("configs/jobs.yaml reads as seed 003's defaults")
    func shippedFile() throws {
        let yaml = try String(contentsOfFile: Self.shippedFile, encoding: .utf8)
        let configuration = try JobSystemConfiguration(yaml: yaml, source: "configs/jobs.yaml")
        #expect(configuration.enabled)
        #expect(configuration.redis.effectiveURL == "redis://localhost:6379/0")
        #expect(configuration.workerPool.workerCount == 5)
        #expect(configuration.workerPool.maxRetries == 3)
        #expect(configuration.workerPool.retryDelay == .seconds(5))
        #expect(configuration.scheduler.cleanupInterval == .seconds(60))
        #expect(configuration.metrics.collectionInterval == .seconds(30))
        #expect(configuration.queues.map(\.name) == ["default", "email", "file_processing", "cleanup"])
        #expect(configuration.queues[1].priorities == [.normal, .high])
        #expect(configuration.queues[2].maxJobs == 100)
        #expect(configuration.servedQueues == ["default", "email", "file_processing", "cleanup"])
        #expect(configuration.workerPool.handlerPlacement == .globalExecutor)
    }

    @Test("stall_limit and the heartbeat timings are read from the file and the environment, and reach the pool")
    func stallLimitAndHeartbeat() throws {
        let file = try JobSystemConfiguration(
            yaml: "jobs:\n  worker_pool:\n    stall_limit: 4\n    heartbeat_interval: 500ms\n    heartbeat_ttl: 2s\n    reaper_interval: 250ms\n")
        #expect(file.workerPool.stallLimit == 4)
        #expect(file.workerPool.heartbeatInterval == .milliseconds(500))
        #expect(file.workerPool.heartbeatTTL == .seconds(2))
        #expect(file.workerPool.reaperInterval == .milliseconds(250))
        let overridden = try file.applyingEnvironment(["JOBS_STALL_LIMIT": "0", "JOBS_HEARTBEAT_TTL": "3s", "JOBS_HEARTBEAT_INTERVAL": "1s"])
        #expect(overridden.workerPool.stallLimit == 0)
        #expect(overridden.workerPool.heartbeatTTL == .seconds(3))
        #expect(overridden.workerPool.heartbeatInterval == .seconds(1))
        #expect(JobSystemConfiguration().workerPool.stallLimit == 1)
        let dedicated = try JobSystemConfiguration(yaml: "jobs:\n  worker_pool:\n    handler_placement: dedicated_threads\n")
        #expect(dedicated.workerPool.handlerPlacement == .dedicatedThreads)
        #expect(try dedicated.applyingEnvironment(["JOBS_HANDLER_PLACEMENT": "dedicated_threads"]).workerPool.handlerPlacement == .dedicatedThreads)
        #expect(JobSystemConfiguration().workerPool.heartbeatTTL == .seconds(15))
        #expect(throws: ConfigurationError("the environment variable JOBS_STALL_LIMIT must be a whole number from 0 to 1000, not \"-1\"")) {
            try file.applyingEnvironment(["JOBS_STALL_LIMIT": "-1"])
        }
    }

    @Test("handler_placement names where handlers run, in the file and the environment")
    func handlerPlacement() throws {
        let file = try JobSystemConfiguration(yaml: "jobs:\n  worker_pool:\n    handler_placement: queue_threads\n")
        #expect(file.workerPool.handlerPlacement == .queueThreads)
        let overridden = try file.applyingEnvironment(["JOBS_HANDLER_PLACEMENT": "global_executor"])
        #expect(overridden.workerPool.handlerPlacement == .globalExecutor)
        #expect(throws: ConfigurationError("the environment variable JOBS_HANDLER_PLACEMENT must be global_executor, queue_threads or dedicated_threads, not \"fast\"")) {
            try file.applyingEnvironment(["JOBS_HANDLER_PLACEMENT": "fast"])
        }
    }

    @Test("the shipped file's schedules are recurring cleanup jobs on the cleanup queue")
    func shippedSchedules() throws {
        let yaml = try String(contentsOfFile: Self.shippedFile, encoding: .utf8)
        let schedules = try JobSystemConfiguration(yaml: yaml, source: "configs/jobs.yaml").schedules
        #expect(schedules.map(\.id) == ["cleanup-temp-files", "nightly-maintenance"])
        #expect(schedules.allSatisfy { $0.name == "cleanup" && $0.options.queue == "cleanup" && $0.options.priority == .low })
        let payloads = schedules.map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(payloads == [#"{"kind":"temp_files"}"#, #"{"kind":"full_maintenance"}"#])
        let midnight = try #require(ISO8601DateFormatter().date(from: "2026-12-01T00:00:00Z"))
        #expect(schedules[1].schedule.nextFiring(after: midnight) == ISO8601DateFormatter().date(from: "2026-12-01T03:30:00Z"))
        #expect(schedules[0].schedule.nextFiring(after: midnight).map { $0.timeIntervalSince(midnight) } ?? 0 <= 3600)
    }

    @Test("a schedule's payload is JSON of the YAML: numbers, booleans and null as YAML reads them, quoted values as strings")
    func schedulePayload() throws {
        let yaml = """
            schedules:
              report:
                job: report_generation
                every: "15m"
                payload: {days: 7, dry: true, note: null, code: "007", tags: [a, 2], nested: {x: 1.5}}
            """
        let job = try #require(try JobSystemConfiguration(yaml: yaml).schedules.first)
        let payload = try JSONDecoder().decode([String: JSONValue].self, from: Data(job.payload))
        #expect(payload == [
            "days": .number(7), "dry": .bool(true), "note": .null, "code": .string("007"), "tags": .array([.string("a"), .number(2)]),
            "nested": .object(["x": .number(1.5)]),
        ])
    }

    @Test("a bad file stops with the key and its line", arguments: [
        ("jobs:\n  worker_pool:\n    worker_cont: 5\n", "test.yaml: jobs.worker_pool.worker_cont (line 3) is not a known key (known here: handler_placement, heartbeat_interval, heartbeat_ttl, max_retries, queues, reaper_interval, retry_delay, shutdown_timeout, stall_limit, worker_count)"),
        ("jobs:\n  worker_pool:\n    handler_placement: connection\n", "test.yaml: jobs.worker_pool.handler_placement (line 3) must be global_executor, queue_threads or dedicated_threads, not \"connection\""),
        ("jobs:\n  worker_pool:\n    worker_count: five\n", "test.yaml: jobs.worker_pool.worker_count (line 3) must be a whole number"),
        ("jobs:\n  scheduler:\n    cleanup_interval: \"1 minute\"\n", "test.yaml: jobs.scheduler.cleanup_interval (line 3) must be a duration such as \"500ms\", \"30s\", \"5m\" or \"1h30m\", not \"1 minute\""),
        ("jobs:\n  metrics:\n    enabled: maybe\n", "test.yaml: jobs.metrics.enabled (line 3) must be true or false"),
        ("queues:\n  email:\n    priority_levels: [\"urgent\"]\n", "test.yaml: queues.email.priority_levels (line 3) has \"urgent\"; use low, normal, high or critical"),
        ("queues:\n  \"bad name\":\n    max_jobs: 5\n", "test.yaml: queues.bad name (line 2) is not a queue name: the queue name \"bad name\" may only contain letters, digits, '_', '-' and '.'"),
        ("jobs: [1, 2]\n", "test.yaml: jobs (line 1) must be a mapping of keys to values"),
        ("colour: blue\n", "test.yaml: colour (line 1) is not a known key (known here: handlers, jobs, queues, schedules)"),
        ("schedules:\n  x:\n    cron: \"@daily\"\n", "test.yaml: schedules.x (line 3) needs job: the job type to run"),
        ("schedules:\n  x:\n    job: a\n    cron: \"@daily\"\n    every: 1h\n", "test.yaml: schedules.x (line 3) needs one of cron (\"0 3 * * *\", \"@daily\") or every (\"15m\")"),
        ("schedules:\n  x:\n    job: a\n    every: 1h\n    priority: urgent\n", "test.yaml: schedules.x.priority (line 5) must be low, normal, high or critical"),
    ])
    func refused(yaml: String, message: String) {
        #expect(throws: ConfigurationError.self) { try JobSystemConfiguration(yaml: yaml, source: "test.yaml") }
        do {
            _ = try JobSystemConfiguration(yaml: yaml, source: "test.yaml")
        } catch {
            #expect(error.message == message)
        }
    }

    @Test("a file that is not YAML stops with its name and the parser's reason")
    func notYAML() {
        do {
            _ = try JobSystemConfiguration(yaml: "jobs:\n  worker_pool: [1,\n", source: "test.yaml")
            Issue.record("a document with an unclosed flow sequence was read")
        } catch {
            #expect(error.message.hasPrefix("test.yaml is not valid YAML: "))
        }
    }

    @Test("environment variables override the file, and a bad one is named")
    func environment() throws {
        let base = try JobSystemConfiguration(yaml: "jobs:\n  worker_pool:\n    worker_count: 5\n")
        let overridden = try base.applyingEnvironment([
            "REDIS_URL": "redis://cache:6380/2", "JOBS_WORKER_COUNT": "12", "JOBS_RETRY_DELAY": "750ms",
            "JOBS_SCHEDULER_ENABLED": "false", "UNRELATED": "x",
        ])
        #expect(overridden.redis.effectiveURL == "redis://cache:6380/2")
        #expect(overridden.workerPool.workerCount == 12)
        #expect(overridden.workerPool.retryDelay == .milliseconds(750))
        #expect(overridden.scheduler.enabled == false)
        #expect(throws: ConfigurationError("the environment variable JOBS_WORKER_COUNT must be a whole number from 1 to 10000, not \"many\"")) {
            try base.applyingEnvironment(["JOBS_WORKER_COUNT": "many"])
        }
    }

    @Test("addr, password and db make the URL, the password escaped")
    func redisURL() throws {
        let configuration = try JobSystemConfiguration(yaml: "jobs:\n  redis:\n    addr: \"10.0.0.5:6390\"\n    password: \"p@ss word\"\n    db: 3\n")
        #expect(configuration.redis.effectiveURL == "redis://:p%40ss%20word@10.0.0.5:6390/3")
    }
}

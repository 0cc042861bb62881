import BackgroundJobs
import Foundation
import Histogram
import Logging
import ServiceLifecycle
import Synchronization

/// One scenario run's Redis client, queue and keys under a prefix of its own, and the job every
/// scenario runs: one `INCR` of a counter, the same body the peer harness gives Sidekiq, RQ and Celery.
struct BenchEnvironment {
    static let job = JobDefinition<BenchPayload>("bench")

    let client: RedisClient
    let keys: RedisKeys
    let queue: RedisJobQueue
    let logger: Logger

    /// Where the worker pools of this run place their handlers.
    let handlers: JobWorkerPool.HandlerPlacement

    init(
        url: String, prefix: String = "b\(String(UInt32.random(in: 0...UInt32.max), radix: 36))",
        handlers: JobWorkerPool.HandlerPlacement = .globalExecutor
    ) throws {
        self.handlers = handlers
        var logger = Logger(label: "jobs-bench")
        logger.logLevel = .warning
        self.logger = logger
        var configuration = try RedisConfiguration(url: url)
        if let connections = ProcessInfo.processInfo.environment["BENCH_CONNECTIONS"].flatMap({ Int($0) }) {
            configuration.connectionCount = connections
        }
        client = RedisClient(configuration: configuration, logger: logger)
        keys = try RedisKeys(prefix: prefix)
        queue = RedisJobQueue(client: client, configuration: try .init(keys: keys), logger: logger)
    }

    var doneKey: String { "\(keys.prefix):done" }
    var firstKey: String { "\(keys.prefix):first" }
    var lastKey: String { "\(keys.prefix):last" }

    /// The handler registry: `INCR` the done counter, and stamp the first and the `total`-th completion.
    /// With `roundTrips`, each `INCR`'s round trip is recorded there.
    func registry(total: Int, latency: LatencyRecorder? = nil, roundTrips: LatencyRecorder? = nil) -> JobRegistry {
        var registry = JobRegistry()
        let client = self.client
        let (done, first, last) = (doneKey, firstKey, lastKey)
        registry.register(Self.job) { payload, _ in
            if let latency, let sent = payload.sentAt { latency.record(since: sent) }
            if let latency, let due = payload.dueAt {
                let late = Int64(Date().timeIntervalSince1970 * 1_000_000) - due * 1000
                latency.record(microseconds: UInt64(max(0, late)))
            }
            let sent = roundTrips == nil ? 0 : BenchClock.nowNanoseconds
            let count = try await client.send("INCR", done).int ?? 0
            roundTrips?.record(since: sent)
            if count == 1 { _ = try await client.send("SET", first, Int(BenchClock.nowNanoseconds)) }
            if count == total { _ = try await client.send("SET", last, Int(BenchClock.nowNanoseconds)) }
        }
        return registry
    }

    func job(payload: BenchPayload = BenchPayload(), options: JobOptions = JobOptions()) -> Job {
        let now = Date()
        return Job(id: JobID.generate(at: now), name: Self.job.name, payload: payload.encoded, options: options, maxRetries: 3, createdAt: now)
    }

    /// The seconds from the first completion to the `total`-th, from the stamps the handler left.
    func processingSeconds() async throws -> Double {
        let first = try await client.send("GET", firstKey).string.flatMap { UInt64($0) } ?? 0
        let last = try await client.send("GET", lastKey).string.flatMap { UInt64($0) } ?? 0
        return Double(last - first) / 1e9
    }

    /// Lost: jobs that never completed. Duplicated: runs beyond one per completed job.
    func deliveryCounts(total: Int) async throws -> (lost: Int, duplicated: Int) {
        let completed = try await queue.counts(of: .default).completed
        let runs = try await client.send("GET", doneKey).string.flatMap { Int($0) } ?? 0
        return (total - completed, max(0, runs - completed))
    }

    /// Deletes every key of this run.
    func cleanUp() async throws {
        var cursor = "0"
        repeat {
            let reply = try await client.send("SCAN", cursor, "MATCH", "\(keys.prefix):*", "COUNT", 5000)
            cursor = reply.array?[0].string ?? "0"
            let names = reply.array?[1].array?.compactMap(\.bytes) ?? []
            if !names.isEmpty { _ = try await client.send(RedisCommand("UNLINK", arguments: names)) }
        } while cursor != "0"
    }

    /// Runs a worker pool in this process until `done` returns true.
    func runPool(registry: JobRegistry, concurrency: Int, until done: @escaping @Sendable () async throws -> Bool) async throws {
        let pool = try JobWorkerPool(
            queue: queue, registry: registry, configuration: .init(concurrency: concurrency, handlerPlacement: handlers), logger: logger)
        let group = ServiceGroup(services: [pool], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            while try await !done() { try await Task.sleep(for: .milliseconds(2)) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Total commands Redis has processed, bytes it has moved and CPU seconds it has used (user and
    /// system), for per-job figures.
    func redisTotals() async throws -> (commands: Int, bytes: Int, cpuSeconds: Double) {
        let info = try await client.send("INFO", "stats", "cpu").string ?? ""
        func field(_ name: String) -> Double {
            info.split(separator: "\r\n").first { $0.hasPrefix("\(name):") }.flatMap { Double($0.dropFirst(name.count + 1)) } ?? 0
        }
        return (
            Int(field("total_commands_processed")), Int(field("total_net_input_bytes") + field("total_net_output_bytes")),
            field("used_cpu_user") + field("used_cpu_sys")
        )
    }
}

/// A benchmark job's payload: small, as the peers' (a latency run carries the time it was sent).
struct BenchPayload: Codable, Sendable {
    /// When a latency run sent the job, on the monotonic clock in nanoseconds.
    var sentAt: UInt64?
    /// When a delayed run's job is due, in milliseconds since 1970.
    var dueAt: Int64?

    var encoded: [UInt8] { Array(try! JSONEncoder().encode(self)) }
}

/// CPU seconds (user and system) this process has used, and its waited-for children.
enum ProcessCPU {
    static var ownSeconds: Double { seconds(RUSAGE_SELF.rawValue) }
    static var childrenSeconds: Double { seconds(RUSAGE_CHILDREN.rawValue) }

    private static func seconds(_ who: __rusage_who_t) -> Double {
        var usage = rusage()
        getrusage(who, &usage)
        func value(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return value(usage.ru_utime) + value(usage.ru_stime)
    }
}

enum BenchClock {
    /// Nanoseconds on the system's monotonic clock, comparable across processes on this machine.
    static var nowNanoseconds: UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

/// Latencies in microseconds, from many tasks.
final class LatencyRecorder: Sendable {
    private let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))

    func record(since nanoseconds: UInt64) {
        let now = BenchClock.nowNanoseconds
        let micros = now > nanoseconds ? (now - nanoseconds) / 1000 : 0
        histogram.withLock { _ = $0.record(micros) }
    }

    func record(microseconds: UInt64) {
        histogram.withLock { _ = $0.record(microseconds) }
    }

    /// p50, p90, p99 in milliseconds.
    var percentiles: (p50: Double, p90: Double, p99: Double) {
        histogram.withLock { histogram in
            (Double(histogram.valueAtPercentile(50)) / 1000, Double(histogram.valueAtPercentile(90)) / 1000,
             Double(histogram.valueAtPercentile(99)) / 1000)
        }
    }

    var count: Int { histogram.withLock { Int($0.totalCount) } }
}

/// One scenario's result, printed as the JSON line the issue names.
struct ScenarioResult {
    var scenario: String
    var jobs: Int
    var seconds: Double
    var p50: Double? = nil
    var p90: Double? = nil
    var p99: Double? = nil
    var commandsPerJob: Double? = nil
    var bytesPerJob: Double? = nil
    var lost: Int = 0
    var duplicated: Int = 0
    var extra: [String: any Sendable] = [:]

    func print() {
        var fields: [String: any Sendable] = [
            "scenario": scenario, "jobs": jobs, "seconds": (seconds * 1000).rounded() / 1000,
            "jobs_per_s": seconds > 0 ? (Double(jobs) / seconds).rounded() : 0, "lost": lost, "duplicated": duplicated,
        ]
        func rounded(_ value: Double?) -> (any Sendable)? { value.map { ($0 * 1000).rounded() / 1000 } }
        fields["p50_ms"] = rounded(p50) ?? NSNull()
        fields["p90_ms"] = rounded(p90) ?? NSNull()
        fields["p99_ms"] = rounded(p99) ?? NSNull()
        fields["redis_cmds_per_job"] = rounded(commandsPerJob) ?? NSNull()
        fields["redis_bytes_per_job"] = rounded(bytesPerJob) ?? NSNull()
        for (key, value) in extra { fields[key] = value }
        report(fields)
    }
}

/// Runs a scenario `runs` times, each against a fresh environment that is cleaned up and closed after it.
func repeated(
    _ common: CommonOptions, runs: Int? = nil, _ scenario: (BenchEnvironment) async throws -> ScenarioResult
) async throws -> [ScenarioResult] {
    var results: [ScenarioResult] = []
    for _ in 0..<(runs ?? common.runs) {
        let bench = try BenchEnvironment(url: common.redisURL, handlers: common.handlers.placement)
        do {
            results.append(try await scenario(bench))
        } catch {
            try? await bench.cleanUp()
            await bench.client.close()
            throw error
        }
        try await bench.cleanUp()
        await bench.client.close()
    }
    return results
}

/// The median run of several, by throughput (or by the value `key` picks).
func medianRun(_ runs: [ScenarioResult], by key: (ScenarioResult) -> Double = { $0.seconds }) -> ScenarioResult {
    runs.sorted { key($0) < key($1) }[runs.count / 2]
}

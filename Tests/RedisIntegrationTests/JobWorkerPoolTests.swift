import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

struct Echo: Codable, Sendable {
    var text: String
}

@Suite("Worker pool", .timeLimit(.minutes(3)))
struct JobWorkerPoolTests {
    static let echo = JobDefinition<Echo>("echo")

    static func job(
        _ name: JobName = "echo", priority: JobPriority = .normal, payload: String = #"{"text":"hi"}"#, at now: Date = Date(),
        options: JobOptions = JobOptions()
    ) -> Job {
        var options = options
        options.priority = priority
        return Job(id: JobID.generate(at: now), name: name, payload: Array(payload.utf8), options: options, maxRetries: 3, createdAt: now)
    }

    /// A registry whose `echo` handler records each run in `log`.
    static func echoRegistry(recordingIn log: RunLog) -> JobRegistry {
        var registry = JobRegistry()
        registry.register(echo) { _, context in log.record(context.job.id) }
        return registry
    }

    static func pool(
        _ queue: any JobQueue, _ registry: JobRegistry, configure: (inout JobWorkerPool.Configuration) -> Void = { _ in }
    ) throws -> JobWorkerPool {
        var configuration = JobWorkerPool.Configuration(
            heartbeatInterval: .milliseconds(200), heartbeatTTL: .seconds(2), reaperInterval: .milliseconds(200),
            shutdownTimeout: .seconds(5))
        configure(&configuration)
        return try JobWorkerPool(queue: queue, registry: registry, configuration: configuration, logger: SharedRedis.logger)
    }

    @Test("10,000 jobs at concurrency 50 each run exactly once, and only their completed status stays in Redis")
    func tenThousand() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let log = RunLog()
            let registry = Self.echoRegistry(recordingIn: log)
            let jobs = (0..<10_000).map { _ in Self.job() }
            for chunk in stride(from: 0, to: jobs.count, by: 1000) {
                let outcomes = try await queue.enqueue(jobs[chunk..<min(chunk + 1000, jobs.count)].map { ($0, QueueLimits()) })
                #expect(outcomes.allSatisfy { (try? $0.get()) == .enqueued })
            }
            let pool = try Self.pool(queue, registry) { $0.concurrency = 50 }
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("every job ran", timeout: .seconds(120), pollEvery: .milliseconds(50)) {
                    pool.snapshot.processed == jobs.count
                }
            }
            let counts = log.counts
            #expect(counts.count == jobs.count)
            #expect(counts.values.allSatisfy { $0 == 1 }, "no job ran twice")
            #expect(Set(counts.keys) == Set(jobs.map(\.id)))

            // What is left: the completed jobs' hashes and their index, kept for the retention time, the set
            // of known queues, the capped event stream, and wake-up markers.
            var leftover: [String] = []
            var cursor = "0"
            repeat {
                let reply = try await client.send("SCAN", cursor, "MATCH", "\(keys.prefix):*", "COUNT", 1000)
                cursor = reply.array?[0].string ?? "0"
                leftover += reply.array?[1].array?.compactMap(\.string) ?? []
            } while cursor != "0"
            let data = leftover.filter { $0.hasPrefix(keys.dataPrefix) }
            #expect(data.count == jobs.count)
            #expect(Set(leftover.filter { !$0.hasPrefix(keys.dataPrefix) && !$0.hasPrefix(keys.wakePrefix) }) == [keys.completed(.default), keys.queues, keys.events])
            // Every job's three changes (stored, taken, completed) are in the event stream, a few per entry.
            let entries = try await client.send("XRANGE", keys.events, "-", "+").array ?? []
            let changes = entries.compactMap { $0.array?.last?.array?.last?.string }.flatMap { $0.split(separator: "\n") }
            #expect(changes.count == 3 * jobs.count)
            #expect(entries.count < jobs.count, "changes of one call share an entry")
            #expect(try await client.send("ZCARD", keys.completed(.default)) == .integer(jobs.count))
            for id in jobs.prefix(50).map(\.id) {
                #expect(try await queue.job(id)?.status == .completed)
            }
        }
    }

    @Test("one worker runs jobs most urgent first, in submission order within a priority")
    func priorityOrder() async throws {
        try await SharedRedis.withQueue { queue, _, _ in
            let log = RunLog()
            let registry = Self.echoRegistry(recordingIn: log)
            let jobs = [JobPriority.low, .normal, .critical, .high, .low, .critical, .normal].map { Self.job(priority: $0) }
            for job in jobs { _ = try await queue.enqueue(job, limits: QueueLimits()) }
            let pool = try Self.pool(queue, registry) { $0.concurrency = 1 }
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("every job ran") { log.count == jobs.count }
            }
            let expected = JobPriority.mostUrgentFirst.flatMap { priority in jobs.filter { $0.priority == priority }.map(\.id) }
            #expect(log.order == expected)
        }
    }

    @Test("with a starvation limit, a low job that waited long runs before newer critical ones", arguments: [false, true])
    func antiStarvation(enabled: Bool) async throws {
        try await SharedRedis.withQueue { queue, _, _ in
            let log = RunLog()
            let registry = Self.echoRegistry(recordingIn: log)
            let old = Self.job(priority: .low, at: Date().addingTimeInterval(-30))
            let urgent = (0..<3).map { _ in Self.job(priority: .critical) }
            for job in [old] + urgent { _ = try await queue.enqueue(job, limits: QueueLimits()) }
            let pool = try Self.pool(queue, registry) {
                $0.concurrency = 1
                $0.starvationLimit = enabled ? .seconds(10) : nil
            }
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("every job ran") { log.count == 4 }
            }
            #expect(log.order == (enabled ? [old.id] + urgent.map(\.id) : urgent.map(\.id) + [old.id]))
        }
    }

    @Test("a failing job is retried after the policy's backoff, then dead with its last error")
    func retryBackoff() async throws {
        try await SharedRedis.withQueue { redis, _, _ in
            let queue = FailureRecordingQueue(redis)
            let log = RunLog()
            var registry = JobRegistry()
            let policy = RetryPolicy.exponential(initialDelay: .milliseconds(100), factor: 2, maxDelay: .seconds(1), maxRetries: 3, jitter: 0)
            registry.register(Self.echo, retry: policy) { _, context in
                log.record(context.job.id)
                throw SMTPTemporaryFailure()
            }
            let job = Self.job(options: JobOptions(maxRetries: 3))
            _ = try await queue.enqueue(job, limits: QueueLimits())
            let pool = try Self.pool(queue, registry)
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("the job is dead") { try await queue.job(job.id)?.status == .dead }
            }
            let failures = queue.recorded
            #expect(failures.count == 4)
            let delays = failures.map { failure in failure.retryAt.map { Int(($0.timeIntervalSince(failure.now) * 1000).rounded()) } }
            #expect(delays == [100, 200, 400, nil])
            #expect(failures.allSatisfy { $0.error == "SMTPTemporaryFailure()" })
            // Each retry started no earlier than its retry time (stored in whole milliseconds).
            let starts = log.starts(of: job.id)
            #expect(starts.count == 4)
            for (failure, start) in zip(failures, starts.dropFirst()) {
                #expect(start.timeIntervalSince(failure.retryAt!) >= -0.001)
            }
            let dead = try #require(try await queue.job(job.id))
            #expect(dead.attempts == 4)
            #expect(dead.lastError == "SMTPTemporaryFailure()")
        }
    }

    @Test("a job over its time limit fails as timed out, and a handler that ignores cancellation does not keep its slot")
    func timeout() async throws {
        try await SharedRedis.withQueue { queue, _, _ in
            let release = Atomic<Bool>(false)
            // Released however the test ends: a handler left waiting would outlive it.
            defer { release.store(true, ordering: .relaxed) }
            let log = RunLog()
            var registry = JobRegistry()
            registry.register(JobDefinition<Echo>("sleepy"), retry: RetryPolicy.none) { _, _ in
                try await Task.sleep(for: .seconds(60))
            }
            registry.register(JobDefinition<Echo>("stubborn"), retry: RetryPolicy.none) { _, _ in
                // Ignores its cancel by sleeping in a task the cancel does not reach. A sleep in its own task
                // throws at once once cancelled, and looping on it spun a thread of the global executor for
                // good (a clean-clone run hung 87 minutes with one core busy there).
                while !release.load(ordering: .relaxed) {
                    await Task.detached { try? await Task.sleep(for: .milliseconds(10)) }.value
                }
            }
            registry.register(Self.echo) { _, context in log.record(context.job.id) }
            let sleepy = Self.job("sleepy", options: JobOptions(maxRetries: 0, timeout: .milliseconds(100)))
            let stubborn = Self.job("stubborn", options: JobOptions(maxRetries: 0, timeout: .milliseconds(100)))
            let after = Self.job()
            for job in [sleepy, stubborn, after] { _ = try await queue.enqueue(job, limits: QueueLimits()) }
            let pool = try Self.pool(queue, registry) { $0.concurrency = 1 }
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("the job after them ran") { log.count == 1 }
            }
            release.store(true, ordering: .relaxed)
            for job in [sleepy, stubborn] {
                let stored = try #require(try await queue.job(job.id))
                #expect(stored.status == .dead)
                #expect(stored.lastError == "timed out after 0.1 seconds")
            }
            #expect(try await queue.job(after.id)?.status == .completed)
        }
    }

    @Test("a payload that does not decode, an unknown job name and an unreadable entry are dead with a reason; the worker goes on")
    func badInput() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let log = RunLog()
            let registry = Self.echoRegistry(recordingIn: log)
            let malformed = Self.job(payload: #"{"text":42}"#)
            let unknown = Self.job("nobody")
            let good = Self.job()
            for job in [malformed, unknown] { _ = try await queue.enqueue(job, limits: QueueLimits()) }
            let unreadable = JobID.generate(at: Date())
            _ = try await client.send("HSET", keys.data(unreadable), "n", "echo", "q", "default", "p", "urgent", "s", "pending", "c", "1")
            _ = try await client.send("LPUSH", keys.ready(.default, .normal), unreadable.rawValue)
            _ = try await queue.enqueue(good, limits: QueueLimits())

            let pool = try Self.pool(queue, registry) { $0.concurrency = 1 }
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("the good job ran") { log.count == 1 }
            }
            let malformedJob = try #require(try await queue.job(malformed.id))
            #expect(malformedJob.status == .dead)
            #expect(malformedJob.lastError == "the payload does not decode as Echo: expected String at text")
            let unknownJob = try #require(try await queue.job(unknown.id))
            #expect(unknownJob.status == .dead)
            #expect(unknownJob.lastError == "no handler is registered for the job name nobody")
            #expect(try await client.send("HGET", keys.data(unreadable), "s").string == "dead")
            #expect(try await client.send("HGET", keys.data(unreadable), "e").string?.contains("priority") == true)
            #expect(try await client.send("ZCARD", keys.dead(.default)) == .integer(3))
            #expect(log.order == [good.id])
        }
    }

    @Test("an idle pool starts a new job and a delayed one without waiting out its idle timeout")
    func wakeUp() async throws {
        try await SharedRedis.withClient(configure: { $0.blockingTimeout = .seconds(60) }) { client, prefix in
            let keys = try RedisKeys(prefix: String(prefix.dropLast()))
            let queue = RedisJobQueue(client: client, configuration: try .init(keys: keys), logger: SharedRedis.logger)
            let log = RunLog()
            let registry = Self.echoRegistry(recordingIn: log)
            let pool = try Self.pool(queue, registry) { $0.idleTimeout = .seconds(60) }
            try await withRunning([pool], logger: SharedRedis.logger) {
                // Let the pool go idle in its blocking wait first.
                try await Task.sleep(for: .milliseconds(200))
                _ = try await queue.enqueue(Self.job(), limits: QueueLimits())
                try await waitUntil("the new job ran", timeout: .seconds(10)) { log.count == 1 }
                let delayed = Self.job(options: JobOptions(delay: .milliseconds(300)))
                _ = try await queue.enqueue(delayed, limits: QueueLimits())
                do {
                    try await waitUntil("the delayed job ran", timeout: .seconds(10)) { log.count == 2 }
                } catch {
                    // Say where the job got stuck, to tell a lost wake-up from a lost promotion.
                    let stored = try await queue.job(delayed.id)
                    let waiting = try await client.send("ZRANGE", keys.delayed, 0, -1, "WITHSCORES")
                    let ready = try await client.send("LRANGE", keys.ready(.default, .normal), 0, -1)
                    let wake = try await client.send("LLEN", keys.timerWake)
                    Issue.record(
                        "delayed job: \(String(describing: stored?.status)), scheduled \(String(describing: stored?.scheduledAt)), now \(Date()); delayed set \(waiting); ready \(ready); timer wake list \(wake); pool \(pool.snapshot)")
                    throw error
                }
            }
        }
    }

    @Test("an idle pool blocked in its wait stops at once, holding nothing, and a job stored after it stays ready")
    func idleStop() async throws {
        let name = "idle-stop-\(UInt32.random(in: 0...UInt32.max))"
        try await SharedRedis.withClient(configure: { $0.blockingTimeout = .seconds(60); $0.clientName = name }) { client, prefix in
            let keys = try RedisKeys(prefix: String(prefix.dropLast()))
            let queue = RedisJobQueue(client: client, configuration: try .init(keys: keys), logger: SharedRedis.logger)
            let pool = try Self.pool(queue, Self.echoRegistry(recordingIn: RunLog())) { $0.idleTimeout = .seconds(60) }
            let clock = ContinuousClock()
            var stopping = clock.now
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("the pool blocks in its wait") {
                    let clients = try await client.send("CLIENT", "LIST").string ?? ""
                    return clients.split(separator: "\n").contains { $0.contains("name=\(name)") && $0.contains("cmd=blpop") }
                }
                stopping = clock.now
            }
            #expect(clock.now - stopping < .seconds(5), "the stop ended the wait instead of waiting out its 60 s")
            #expect(try await client.send("LLEN", keys.processing(worker: pool.worker.rawValue)).int == 0)
            let job = Self.job()
            _ = try await queue.enqueue(job, limits: QueueLimits())
            #expect(try await queue.job(job.id)?.status == .pending)
        }
    }

    @Test("a job a wait fetched with its answer lost is put back and run at once, not at the next scheduled reconcile")
    func lostWaitReply() async throws {
        let name = "lost-wait-\(UInt32.random(in: 0...UInt32.max))"
        try await SharedRedis.withClient(configure: { $0.clientName = name }) { client, prefix in
            let keys = try RedisKeys(prefix: String(prefix.dropLast()))
            let queue = FailureRecordingQueue(RedisJobQueue(client: client, configuration: try .init(keys: keys), logger: SharedRedis.logger))
            let log = RunLog()
            let pool = try Self.pool(queue, Self.echoRegistry(recordingIn: log)) {
                $0.idleTimeout = .seconds(60)
                $0.reconcileInterval = .seconds(60)
            }
            let job = Self.job()
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("the pool blocks in its wait") {
                    let clients = try await client.send("CLIENT", "LIST").string ?? ""
                    return clients.split(separator: "\n").contains { $0.contains("name=\(name)") && $0.contains("cmd=blpop") }
                }
                queue.loseNextFetchingWaitReply()
                _ = try await queue.enqueue(job, limits: QueueLimits())
                try await waitUntil("the job ran") { log.count == 1 }
                try await waitUntil("the job is completed") { try await queue.job(job.id)?.status == .completed }
            }
            #expect(queue.lostWaitReplies == 1, "the wait, not the loop, fetched the job")
            #expect(log.counts[job.id] == 1)
        }
    }

    @Test("a graceful shutdown completes jobs that end in time and puts the others back, unfailed")
    func gracefulShutdown() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let release = Atomic<Bool>(false)
            let started = RunLog()
            var registry = JobRegistry()
            registry.register(JobDefinition<Echo>("quick")) { _, context in
                started.record(context.job.id)
                while !release.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
            }
            registry.register(JobDefinition<Echo>("slow")) { _, context in
                started.record(context.job.id)
                try await Task.sleep(for: .seconds(60))
            }
            let quick = (0..<2).map { _ in Self.job("quick", priority: .critical) }
            let slow = (0..<2).map { _ in Self.job("slow", priority: .high) }
            let waiting = (0..<6).map { _ in Self.job("slow") }
            for job in quick + slow + waiting { _ = try await queue.enqueue(job, limits: QueueLimits()) }

            let pool = try Self.pool(queue, registry) {
                $0.concurrency = 4
                $0.shutdownTimeout = .milliseconds(500)
            }
            let group = ServiceGroup(configuration: .init(services: [.init(service: pool)], logger: SharedRedis.logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await waitUntil("four jobs run") { started.count == 4 }
                await group.triggerGracefulShutdown()
                release.store(true, ordering: .relaxed)
                try await tasks.waitForAll()
            }
            for job in quick { #expect(try await queue.job(job.id)?.status == .completed) }
            for job in slow + waiting {
                let stored = try #require(try await queue.job(job.id))
                #expect(stored.status == .pending)
                #expect(stored.attempts == 0)
                #expect(stored.lastError == nil)
            }
            #expect(try await client.send("LRANGE", keys.ready(.default, .high), 0, -1).array?.count == 2)
            #expect(try await client.send("LLEN", keys.ready(.default, .normal)) == .integer(6))
            #expect(try await client.send("EXISTS", keys.processing(worker: pool.worker.rawValue)) == .integer(0))
            #expect(try await client.send("EXISTS", keys.heartbeat(worker: pool.worker.rawValue)) == .integer(0))
            #expect(try await client.send("SISMEMBER", keys.workers, pool.worker.rawValue) == .integer(0))
        }
    }

    @Test("cancelling a running job cancels its handler; the job ends cancelled, not retried, and its slot is free")
    func cancelRunning() async throws {
        try await SharedRedis.withQueue { queue, _, _ in
            let sawCancellation = Atomic<Bool>(false)
            let started = RunLog()
            let log = RunLog()
            var registry = JobRegistry()
            registry.register(JobDefinition<Echo>("long")) { _, context in
                started.record(context.job.id)
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    sawCancellation.store(true, ordering: .relaxed)
                    throw error
                }
            }
            registry.register(Self.echo) { _, context in log.record(context.job.id) }
            let long = Self.job("long")
            let service = JobService(queue: queue)
            _ = try await queue.enqueue(long, limits: QueueLimits())
            let pool = try Self.pool(queue, registry) { $0.concurrency = 1 }
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("the long job runs") { started.count == 1 }
                #expect(try await service.cancel(long.id) == .cancelling)
                try await waitUntil("the job is cancelled") { try await queue.job(long.id)?.status == .cancelled }
                let after = Self.job()
                _ = try await queue.enqueue(after, limits: QueueLimits())
                try await waitUntil("the next job ran in the freed slot") { log.count == 1 }
            }
            let handlerSawCancellation = sawCancellation.load(ordering: .relaxed)
            #expect(handlerSawCancellation)
            let stored = try #require(try await queue.job(long.id))
            #expect(stored.attempts == 1)
            #expect(started.count == 1, "not retried")
        }
    }
}

struct SMTPTemporaryFailure: Error {}

import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Worker pool: where handlers run", .timeLimit(.minutes(2)))
struct JobWorkerPoolPlacementTests {
    /// Runs `count` echo jobs with `placement` and returns the threads their handlers ran on.
    static func handlerThreads(_ placement: JobWorkerPool.HandlerPlacement, count: Int = 40) async throws -> Set<String> {
        let box = ThreadNames()
        var result: Set<String> = []
        try await SharedRedis.withQueue { queue, _, _ in
            var registry = JobRegistry()
            registry.register(JobWorkerPoolTests.echo) { _, _ in box.record(currentThreadName()) }
            _ = try await queue.enqueue((0..<count).map { _ in (JobWorkerPoolTests.job(), QueueLimits()) })
            let pool = try JobWorkerPoolTests.pool(queue, registry) {
                $0.concurrency = 4
                $0.handlerPlacement = placement
            }
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("every job ran") { pool.snapshot.processed == count }
            }
            result = box.names
        }
        return result
    }

    @Test("handlers run on the global executor by default, and on the connections' threads with .queueThreads")
    func placement() async throws {
        let global = try await Self.handlerThreads(.globalExecutor)
        #expect(!global.isEmpty && global.allSatisfy { !$0.hasPrefix("redis-") }, "threads: \(global)")
        let queueThreads = try await Self.handlerThreads(.queueThreads)
        #expect(!queueThreads.isEmpty && queueThreads.allSatisfy { $0.hasPrefix("redis-") }, "threads: \(queueThreads)")
    }

    @Test("a handler that holds up its connection's thread past the heartbeat TTL keeps its worker alive, and runs once")
    func blockingHandlerKeepsHeartbeat() async throws {
        // One pipelined connection, so the handler holds up all of them.
        try await SharedRedis.withQueue(configure: { $0.connectionCount = 1 }) { queue, client, keys in
            let log = RunLog()
            var registry = JobRegistry()
            registry.register(JobWorkerPoolTests.echo) { _, context in
                // Blocks the thread on purpose, as a handler that computes would, for twice the TTL; sleeping in
                // a blocking call rather than spinning, so the other tests keep their CPU.
                usleep(4_000_000)
                log.record(context.job.id)
            }
            let job = JobWorkerPoolTests.job()
            _ = try await queue.enqueue(job, limits: QueueLimits())
            let pool = try JobWorkerPoolTests.pool(queue, registry) {
                $0.concurrency = 1
                $0.handlerPlacement = .queueThreads
                $0.heartbeatInterval = .milliseconds(200)
                $0.heartbeatTTL = .seconds(2)
            }
            // A second pool, on a queue of its own, only to reap a worker whose heartbeat lapsed.
            let otherQueue = try QueueSelection.strict([QueueName("reaper-only")])
            let reaper = try JobWorkerPoolTests.pool(queue, JobRegistry()) {
                $0.queues = otherQueue
                $0.reaperInterval = .milliseconds(100)
            }
            let heartbeat = keys.heartbeat(worker: pool.worker.rawValue)
            var lapses = 0
            try await withRunning([pool, reaper], logger: SharedRedis.logger) {
                // Watched from a client of its own: this test's client waits for the blocked thread too.
                let watcher = RedisClient(configuration: client.configuration, logger: SharedRedis.logger)
                try await waitUntil("the job ran", timeout: .seconds(20), pollEvery: .milliseconds(50)) {
                    if try await watcher.send("EXISTS", heartbeat).int != 1, pool.snapshot.busy > 0 { lapses += 1 }
                    return pool.snapshot.processed == 1
                }
                await watcher.close()
            }
            #expect(lapses == 0, "the heartbeat lapsed while the handler ran")
            #expect(log.counts == [job.id: 1])
            let stored = try #require(try await queue.job(job.id))
            #expect(stored.status == .completed)
            #expect(stored.attempts == 1)
            #expect(stored.stalls == 0)
        }
    }
}

/// Thread names recorded by handlers.
final class ThreadNames: Sendable {
    private let storage = Mutex<Set<String>>([])
    func record(_ name: String) { storage.withLock { _ = $0.insert(name) } }
    var names: Set<String> { storage.withLock { $0 } }
}

import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import Foundation
import Testing

/// Heartbeats that expire while Redis is away (an outage longer than their TTL, with the data kept by
/// AOF) say nothing about their workers. A reaper that ran the moment Redis answered again took over the
/// jobs of workers that had simply not beaten yet, and those jobs ran twice.
@Suite("Takeovers after an outage", .timeLimit(.minutes(2)))
struct OutageTakeoverTests {
    @Test("after an outage longer than the heartbeat TTL, the reaper waits for live workers to beat again")
    func noTakeoverOfWorkersNotYetBack() async throws {
        let server = try await TestRedisServer(arguments: ["--appendonly", "yes", "--appendfsync", "always"])
        let client = try RedisClient(url: server.url, logger: SharedRedis.logger)
        let keys = try RedisKeys(prefix: "outage-\(UInt32.random(in: 0...UInt32.max))")
        let queue = RedisJobQueue(client: client, configuration: try .init(keys: keys), logger: SharedRedis.logger)

        // A worker of another process, alive throughout, holding a job; its heartbeats come by hand.
        let other = try WorkerID("other-process")
        let ttl = Duration.milliseconds(1500)
        try await queue.heartbeat(other, ttl: ttl)
        let held = JobWorkerPoolTests.job()
        _ = try await queue.enqueue(held, limits: QueueLimits())
        #expect(try await queue.fetch(for: other, from: ["default"], limit: 1, now: Date()).jobs.map(\.id) == [held.id])

        // A pool in this process, on its own queue so it runs nothing, whose reaper watches every worker.
        let pool = try JobWorkerPoolTests.pool(queue, JobRegistry()) {
            $0.queues = try! .strict(["idle-queue"])
            $0.heartbeatInterval = .milliseconds(500)
            $0.heartbeatTTL = ttl
            $0.reaperInterval = .milliseconds(50)
        }
        try await withRunning([pool], logger: SharedRedis.logger) {
            try await waitUntil("the pool's heartbeat is stored") {
                try await client.send("SMEMBERS", keys.workers).array?.count == 2
            }
            try await queue.heartbeat(other, ttl: ttl)
            try await server.stop()
            // Longer than the TTL: when Redis is back, both heartbeats have expired, and the reap the pool
            // sent during the outage runs first.
            try await Task.sleep(for: .milliseconds(2000))
            try await server.start()
            try await waitUntil("Redis answers again") { (try? await client.send("PING")) == .simpleString("PONG") }
            // The other process beats again as soon as Redis is back, as a live worker with the same
            // heartbeat interval does within that interval; it is not there the moment Redis answers.
            let clock = ContinuousClock()
            let back = clock.now
            while clock.now - back < .seconds(3) {
                try await queue.heartbeat(other, ttl: ttl)
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let job = try #require(try await queue.job(held.id))
        #expect(job.status == .processing, "the live worker's job was taken over")
        #expect(job.stalls == 0)
        await client.close()
        try await server.stop()
    }
}

import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import Foundation
import Testing

@Suite("Redis job queue", .timeLimit(.minutes(2)))
struct RedisJobQueueTests {
    let worker: WorkerID = try! WorkerID("worker-1")

    @Test("jobs are fetched most urgent first, first in first out within a priority, into the worker's list")
    func priorityOrder() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let now = Date()
            var ids: [JobPriority: [JobID]] = [:]
            for priority in [JobPriority.low, .normal, .critical, .high, .low, .critical] {
                let job = Self.job(priority: priority, at: now)
                ids[priority, default: []].append(job.id)
                _ = try await queue.enqueue(job, limits: QueueLimits())
            }
            let fetched = try await queue.fetch(for: worker, from: ["default"], limit: 4, now: now).jobs
            #expect(fetched.map(\.id) == ids[.critical]! + ids[.high]! + [ids[.normal]![0]])
            #expect(fetched.allSatisfy { $0.status == .processing && $0.attempts == 1 && $0.startedAt != nil })
            let held = try await client.send("LRANGE", keys.processing(worker: worker.rawValue), 0, -1).array?.compactMap(\.string)
            #expect(Set(held ?? []) == Set(fetched.map(\.id.rawValue)))

            let rest = try await queue.fetch(for: worker, from: ["default"], limit: 10, now: now).jobs
            #expect(rest.map(\.id) == ids[.low]!)
            #expect(try await queue.fetch(for: worker, from: ["default"], limit: 10, now: now).jobs.isEmpty)
        }
    }

    @Test("a delayed job waits in the delayed set and is not fetched")
    func delayed() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let now = Date()
            let job = Job(id: JobID.generate(at: now), name: "report", payload: [], options: JobOptions(delay: .seconds(60)), maxRetries: 3, createdAt: now)
            _ = try await queue.enqueue(job, limits: QueueLimits())
            #expect(try await queue.job(job.id)?.status == .scheduled)
            let score = try await client.send("ZSCORE", keys.delayed, job.id.rawValue).int
            #expect(score == RedisJobCodecMirror.milliseconds(now.addingTimeInterval(60)))
            #expect(try await queue.fetch(for: worker, from: ["default"], limit: 10, now: now).jobs.isEmpty)
        }
    }

    @Test("completing keeps status and result for the retention time, once, and only for the holder")
    func complete() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let now = Date()
            let job = Self.job(at: now)
            _ = try await queue.enqueue(job, limits: QueueLimits())
            let fetched = try #require(try await queue.fetch(for: worker, from: ["default"], limit: 1, now: now).jobs.first)

            #expect(try await queue.complete(fetched, by: WorkerID("someone-else"), result: nil, now: now) == false)
            #expect(try await queue.complete(fetched, by: worker, result: Array("done".utf8), now: now))
            #expect(try await queue.complete(fetched, by: worker, result: nil, now: now) == false, "a second completion is refused")

            let stored = try #require(try await queue.job(job.id))
            #expect(stored.status == .completed)
            #expect(stored.result == Array("done".utf8))
            #expect(stored.finishedAt != nil)
            #expect(try await client.send("LLEN", keys.processing(worker: worker.rawValue)) == .integer(0))
            let ttl = try #require(try await client.send("TTL", keys.data(job.id)).int)
            #expect((24 * 3600 - 5)...(24 * 3600) ~= ttl)
            #expect(try await client.send("GET", keys.unfinished("default")) == .null, "the count is gone at zero")
        }
    }

    @Test("a unique key refuses a second job while the first is unfinished, and frees on completion")
    func unique() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let now = Date()
            let first = Self.job(at: now, uniqueKey: "invoice:7")
            let second = Self.job(at: now, uniqueKey: "invoice:7")
            #expect(try await queue.enqueue(first, limits: QueueLimits()) == .enqueued)
            #expect(try await queue.enqueue(second, limits: QueueLimits()) == .duplicate(of: first.id))
            #expect(try await queue.job(second.id) == nil, "nothing of the duplicate is written")
            #expect(try await client.send("LLEN", keys.ready("default", .normal)) == .integer(1))

            let fetched = try #require(try await queue.fetch(for: worker, from: ["default"], limit: 1, now: now).jobs.first)
            _ = try await queue.complete(fetched, by: worker, result: nil, now: now)
            #expect(try await queue.enqueue(second, limits: QueueLimits()) == .enqueued)
        }
    }

    @Test("a queue at max_jobs refuses with a clear error and writes nothing")
    func maxJobs() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let now = Date()
            let limits = QueueLimits(maxJobs: 3)
            for _ in 0..<3 { _ = try await queue.enqueue(Self.job(at: now), limits: limits) }
            let refused = Self.job(at: now)
            let error = try await #require(throws: JobQueueError.self) { try await queue.enqueue(refused, limits: limits) }
            #expect(error.code == .queueFull)
            #expect(error.message == "the queue holds its maximum of 3 unfinished jobs")
            #expect(try await queue.job(refused.id) == nil)
            #expect(try await client.send("LLEN", keys.ready("default", .normal)) == .integer(3))

            let fetched = try #require(try await queue.fetch(for: worker, from: ["default"], limit: 1, now: now).jobs.first)
            _ = try await queue.complete(fetched, by: worker, result: nil, now: now)
            #expect(try await queue.enqueue(refused, limits: limits) == .enqueued)
        }
    }

    @Test("a ready id whose job hash is gone is dropped by fetch, and the next job is served")
    func strayID() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let now = Date()
            let job = Self.job(at: now)
            _ = try await queue.enqueue(job, limits: QueueLimits())
            _ = try await client.send("RPUSH", keys.ready("default", .normal), JobID.generate(at: now).rawValue)
            let fetched = try await queue.fetch(for: worker, from: ["default"], limit: 5, now: now).jobs
            #expect(fetched.map(\.id) == [job.id])
            #expect(try await client.send("LLEN", keys.processing(worker: worker.rawValue)) == .integer(1))
        }
    }

    @Test("a failed attempt with retries left waits in the delayed set with its error")
    func failWillRetry() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let now = Date()
            _ = try await queue.enqueue(Self.job(at: now), limits: QueueLimits())
            let fetched = try #require(try await queue.fetch(for: worker, from: ["default"], limit: 1, now: now).jobs.first)
            let retryAt = now.addingTimeInterval(5)
            #expect(try await queue.fail(fetched, by: worker, error: "SMTP 451 try later", retryAt: retryAt, now: now) == .willRetry)

            let stored = try #require(try await queue.job(fetched.id))
            #expect(stored.status == .failed)
            #expect(stored.lastError == "SMTP 451 try later")
            #expect(stored.attempts == 1)
            #expect(try await client.send("ZSCORE", keys.delayed, fetched.id.rawValue).int == RedisJobCodecMirror.milliseconds(retryAt))
            #expect(try await client.send("LLEN", keys.processing(worker: worker.rawValue)) == .integer(0))
            #expect(try await queue.fail(fetched, by: worker, error: "again", retryAt: nil, now: now) == .notHeld)
        }
    }

    @Test("a final failure makes the job dead, kept for the dead retention, and frees its place and unique key")
    func failDead() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let now = Date()
            let job = Self.job(at: now, uniqueKey: "once")
            _ = try await queue.enqueue(job, limits: QueueLimits(maxJobs: 1))
            let fetched = try #require(try await queue.fetch(for: worker, from: ["default"], limit: 1, now: now).jobs.first)
            #expect(try await queue.fail(fetched, by: worker, error: "payload is not JSON", retryAt: nil, now: now) == .dead)

            let stored = try #require(try await queue.job(job.id))
            #expect(stored.status == .dead)
            #expect(stored.lastError == "payload is not JSON")
            #expect(try await client.send("ZSCORE", keys.dead("default"), job.id.rawValue).int == RedisJobCodecMirror.milliseconds(now))
            let ttl = try #require(try await client.send("TTL", keys.data(job.id)).int)
            #expect((7 * 24 * 3600 - 5)...(7 * 24 * 3600) ~= ttl)
            #expect(try await queue.enqueue(Self.job(at: now, uniqueKey: "once"), limits: QueueLimits(maxJobs: 1)) == .enqueued)
        }
    }

    @Test("due jobs move to their own ready lists; later ones wait and bound the next wake-up")
    func promote() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let now = Date(timeIntervalSince1970: 1_790_000_000)
            let soonHigh = Job(id: JobID.generate(at: now), name: "a", payload: [], options: JobOptions(queue: "mail", priority: .high, delay: .seconds(1)), maxRetries: 0, createdAt: now)
            let soonLow = Job(id: JobID.generate(at: now), name: "a", payload: [], options: JobOptions(priority: .low, delay: .seconds(2)), maxRetries: 0, createdAt: now)
            let later = Job(id: JobID.generate(at: now), name: "a", payload: [], options: JobOptions(delay: .seconds(60)), maxRetries: 0, createdAt: now)
            for job in [soonHigh, soonLow, later] { _ = try await queue.enqueue(job, limits: QueueLimits()) }

            let result = try await queue.promoteDue(now: now.addingTimeInterval(3), limit: 100)
            #expect(result.promoted == 2)
            #expect(result.nextDue == now.addingTimeInterval(60))
            #expect(try await client.send("LRANGE", keys.ready("mail", .high), 0, -1) == .array([.bulkString(Array(soonHigh.id.rawValue.utf8))]))
            #expect(try await client.send("LRANGE", keys.ready("default", .low), 0, -1) == .array([.bulkString(Array(soonLow.id.rawValue.utf8))]))
            #expect(try await queue.job(soonHigh.id)?.status == .pending)
            #expect(try await queue.job(later.id)?.status == .scheduled)
            #expect(try await client.send("ZCARD", keys.delayed) == .integer(1))

            let empty = try await queue.promoteDue(now: now.addingTimeInterval(3), limit: 100)
            #expect(empty == PromotionResult(promoted: 0, nextDue: now.addingTimeInterval(60)))
        }
    }

    @Test("requeued jobs go back to the front of their lists as if never started")
    func requeue() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let now = Date()
            let first = Self.job(at: now)
            let second = Self.job(at: now)
            _ = try await queue.enqueue(first, limits: QueueLimits())
            _ = try await queue.enqueue(second, limits: QueueLimits())
            let held = try await queue.fetch(for: worker, from: ["default"], limit: 1, now: now).jobs
            #expect(held.map(\.id) == [first.id])
            #expect(try await queue.requeue(held, by: worker) == 1)
            #expect(try await queue.requeue(held, by: worker) == 0, "a job not held is not put back twice")

            let stored = try #require(try await queue.job(first.id))
            #expect(stored.status == .pending)
            #expect(stored.attempts == 0)
            let again = try await queue.fetch(for: worker, from: ["default"], limit: 2, now: now).jobs
            #expect(again.map(\.id) == [first.id, second.id], "the interrupted job runs first")
            #expect(try await client.send("LLEN", keys.processing(worker: worker.rawValue)) == .integer(2))
        }
    }

    static func job(queue: QueueName = .default, priority: JobPriority = .normal, at now: Date, uniqueKey: String? = nil) -> Job {
        Job(
            id: JobID.generate(at: now), name: "test", payload: Array("{}".utf8),
            options: JobOptions(queue: queue, priority: priority, uniqueKey: uniqueKey), maxRetries: 3, createdAt: now)
    }

}

/// The queue's time encoding, restated so the test checks the stored score independently.
enum RedisJobCodecMirror {
    static func milliseconds(_ date: Date) -> Int { Int((date.timeIntervalSince1970 * 1000).rounded()) }
}

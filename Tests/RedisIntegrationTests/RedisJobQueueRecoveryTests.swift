import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import Foundation
import Testing

@Suite("Redis job queue recovery", .timeLimit(.minutes(2)))
struct RedisJobQueueRecoveryTests {
    @Test("the jobs of a worker whose heartbeat expired go back to their lists, and it can no longer complete them")
    func reapRequeues() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let now = Date()
            let crashed = try WorkerID("crashed-1")
            let alive = try WorkerID("alive-1")
            try await queue.heartbeat(crashed, ttl: .seconds(30))
            try await queue.heartbeat(alive, ttl: .seconds(30))
            let jobs = (0..<3).map { _ in RedisJobQueueTests.job(priority: .high, at: now) }
            for job in jobs { _ = try await queue.enqueue(job, limits: QueueLimits()) }
            let held = try await queue.fetch(for: crashed, from: ["default"], limit: 3, now: now).jobs
            #expect(held.count == 3)

            #expect(try await queue.reapDeadWorkers(now: now, stallLimit: 2) == ReapResult(workers: 0, requeued: 0, dead: 0))
            // Its last heartbeat before the crash.
            try await queue.heartbeat(crashed, ttl: .milliseconds(50))
            try await waitUntil("the crashed worker's heartbeat expires") {
                try await client.send("EXISTS", keys.heartbeat(worker: crashed.rawValue)) == .integer(0)
            }
            #expect(try await queue.reapDeadWorkers(now: now, stallLimit: 2) == ReapResult(workers: 1, requeued: 3, dead: 0))
            #expect(try await queue.reapDeadWorkers(now: now, stallLimit: 2) == ReapResult(workers: 0, requeued: 0, dead: 0), "a second reaper finds nothing")

            let members = try await client.send("SMEMBERS", keys.workers).array?.compactMap(\.string)
            #expect(members == [alive.rawValue])
            for job in held {
                let stored = try #require(try await queue.job(job.id))
                #expect(stored.status == .pending)
                #expect(stored.stalls == 1)
                #expect(try await queue.complete(job, by: crashed, result: nil, now: now) == false)
            }
            // Jobs that stalled are handed out one at a time, each alone (see SuspectIsolationTests).
            var taken: [JobID] = []
            for _ in jobs {
                let fetched = try await queue.fetch(for: alive, from: ["default"], limit: 10, now: now).jobs
                #expect(fetched.count == 1)
                for job in fetched {
                    #expect(try await queue.complete(job, by: alive, result: nil, now: now))
                    taken.append(job.id)
                }
            }
            #expect(Set(taken) == Set(jobs.map(\.id)))
        }
    }

    @Test("a job that stalls more often than the limit is dead with the reason, and frees its place")
    func poisonPill() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let now = Date()
            let job = RedisJobQueueTests.job(at: now, uniqueKey: "poison")
            _ = try await queue.enqueue(job, limits: QueueLimits(maxJobs: 1))
            for round in 1...3 {
                let worker = try WorkerID("victim-\(round)")
                try await queue.heartbeat(worker, ttl: .milliseconds(50))
                let held = try await queue.fetch(for: worker, from: ["default"], limit: 1, now: now).jobs
                #expect(held.map(\.id) == [job.id])
                try await waitUntil("heartbeat \(round) expires") {
                    try await client.send("EXISTS", keys.heartbeat(worker: worker.rawValue)) == .integer(0)
                }
                let result = try await queue.reapDeadWorkers(now: now, stallLimit: 2)
                #expect(result == (round <= 2 ? ReapResult(workers: 1, requeued: 1, dead: 0) : ReapResult(workers: 1, requeued: 0, dead: 1)))
            }
            let stored = try #require(try await queue.job(job.id))
            #expect(stored.status == .dead)
            #expect(stored.stalls == 3)
            #expect(stored.lastError == "the job stalled 3 times: its worker died while running it")
            #expect(try await client.send("ZSCORE", keys.dead("default"), job.id.rawValue).int != nil)
            #expect(try await queue.enqueue(RedisJobQueueTests.job(at: now, uniqueKey: "poison"), limits: QueueLimits(maxJobs: 1)) == .enqueued)
        }
    }

    @Test("a clean stop unregisters only after every held job is back")
    func unregister() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let now = Date()
            let worker = try WorkerID("stopping-1")
            try await queue.heartbeat(worker, ttl: .seconds(30))
            _ = try await queue.enqueue(RedisJobQueueTests.job(at: now), limits: QueueLimits())
            let held = try await queue.fetch(for: worker, from: ["default"], limit: 1, now: now).jobs
            await #expect(throws: JobQueueError.self) { try await queue.unregister(worker) }
            _ = try await queue.requeue(held, by: worker)
            try await queue.unregister(worker)
            #expect(try await client.send("SCARD", keys.workers) == .integer(0))
            #expect(try await client.send("EXISTS", keys.heartbeat(worker: worker.rawValue)) == .integer(0))
        }
    }

}

import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import Foundation
import Synchronization
import Testing

/// A job that stalled (its worker died holding it) may be what killed the worker. Found by the fault suite's
/// poison-pill scenario: the reaper put a crashed worker's jobs back together, the next worker took them
/// together, and when the poison pill crashed it too, every job it held had stalled twice and was dead.
@Suite("Jobs that stalled run alone", .timeLimit(.minutes(2)))
struct SuspectIsolationTests {
    /// Enqueues `count` jobs, lets a worker take them and die, and reaps it: each is pending with one stall.
    static func stalledJobs(_ count: Int, queue: RedisJobQueue, client: RedisClient, keys: RedisKeys) async throws -> [Job] {
        let now = Date()
        let jobs = (0..<count).map { _ in JobWorkerPoolTests.job(at: now) }
        for job in jobs { _ = try await queue.enqueue(job, limits: QueueLimits()) }
        let crashed = try WorkerID("crashed-\(UInt32.random(in: 0...UInt32.max))")
        try await queue.heartbeat(crashed, ttl: .milliseconds(50))
        #expect(try await queue.fetch(for: crashed, from: ["default"], limit: count, now: now).jobs.count == count)
        try await waitUntil("the crashed worker's heartbeat expires") {
            try await client.send("EXISTS", keys.heartbeat(worker: crashed.rawValue)) == .integer(0)
        }
        #expect(try await queue.reapDeadWorkers(now: Date(), stallLimit: 5).requeued == count)
        return jobs
    }

    @Test("a fetch hands out a stalled job only to a worker that holds nothing else, and nothing with it")
    func fetchIsolates() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let stalled = try await Self.stalledJobs(3, queue: queue, client: client, keys: keys)
            let fresh = RedisJobQueueTests.job(at: Date())
            _ = try await queue.enqueue(fresh, limits: QueueLimits())
            let worker = try WorkerID("isolating-1")
            try await queue.heartbeat(worker, ttl: .seconds(30))

            var taken: [JobID] = []
            for round in 0..<3 {
                let first = try await queue.fetch(for: worker, from: ["default"], limit: 10, now: Date()).jobs
                #expect(first.count == 1, "round \(round): one stalled job, alone")
                #expect(first.first?.stalls == 1)
                // While it is held, the next stalled job stays put, and so does the fresh one behind it. (Behind
                // the last one the fresh job could be taken: the pool itself fetches nothing while it holds one.)
                if round < 2 { #expect(try await queue.fetch(for: worker, from: ["default"], limit: 10, now: Date()).jobs.isEmpty) }
                let job = try #require(first.first)
                #expect(try await queue.complete(job, by: worker, result: nil, now: Date()))
                taken.append(job.id)
            }
            #expect(Set(taken) == Set(stalled.map(\.id)))
            let last = try await queue.fetch(for: worker, from: ["default"], limit: 10, now: Date()).jobs
            #expect(last.map(\.id) == [fresh.id])
        }
    }

    @Test("a worker that holds a job fetches no stalled one until it holds nothing")
    func busyWorkerWaits() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let worker = try WorkerID("busy-1")
            try await queue.heartbeat(worker, ttl: .seconds(30))
            let running = RedisJobQueueTests.job(at: Date())
            _ = try await queue.enqueue(running, limits: QueueLimits())
            let held = try await queue.fetch(for: worker, from: ["default"], limit: 1, now: Date()).jobs
            #expect(held.map(\.id) == [running.id])
            let stalled = try await Self.stalledJobs(1, queue: queue, client: client, keys: keys)
            #expect(try await queue.fetch(for: worker, from: ["default"], limit: 5, now: Date()).jobs.isEmpty)
            let (outcomes, fetched) = try await queue.settle(
                [(held[0], .completed(result: nil))], by: worker, fetching: 5, from: ["default"], starvationLimit: nil, now: Date())
            #expect(outcomes == [.completed])
            #expect(fetched.jobs.map(\.id) == stalled.map(\.id), "once it holds nothing, the same round trip takes the stalled job")
        }
    }

    @Test("a stalled job waits at most five seconds for a worker that holds nothing else; then a busy worker takes it")
    func boundedWait() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let worker = try WorkerID("busy-2")
            try await queue.heartbeat(worker, ttl: .seconds(30))
            let long = JobWorkerPoolTests.job(at: Date())
            _ = try await queue.enqueue(long, limits: QueueLimits())
            #expect(try await queue.fetch(for: worker, from: ["default"], limit: 1, now: Date()).jobs.map(\.id) == [long.id])
            let stalled = try await Self.stalledJobs(1, queue: queue, client: client, keys: keys)
            // The time it went back, as the reaper wrote it.
            let back = try #require(try await client.send("HGET", keys.data(stalled[0].id), "z").string.flatMap(Double.init))
            let wentBack = Date(timeIntervalSince1970: back / 1000)
            #expect(try await queue.fetch(for: worker, from: ["default"], limit: 5, now: wentBack.addingTimeInterval(4)).jobs.isEmpty)
            let taken = try await queue.fetch(for: worker, from: ["default"], limit: 5, now: wentBack.addingTimeInterval(6)).jobs
            #expect(taken.map(\.id) == stalled.map(\.id))
        }
    }

    @Test("each stalled job taken alone gives the next one in line a fresh wait, so a slow run of them is not mixed")
    func progressRenewsTheWait() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let busy = try WorkerID("busy-3")
            let idle = try WorkerID("idle-3")
            for worker in [busy, idle] { try await queue.heartbeat(worker, ttl: .seconds(30)) }
            let long = JobWorkerPoolTests.job(at: Date())
            _ = try await queue.enqueue(long, limits: QueueLimits())
            #expect(try await queue.fetch(for: busy, from: ["default"], limit: 1, now: Date()).jobs.map(\.id) == [long.id])
            let stalled = try await Self.stalledJobs(2, queue: queue, client: client, keys: keys)
            let back = try #require(try await client.send("HGET", keys.data(stalled[0].id), "z").string.flatMap(Double.init))
            let wentBack = Date(timeIntervalSince1970: back / 1000)

            let first = try await queue.fetch(for: idle, from: ["default"], limit: 5, now: wentBack.addingTimeInterval(4)).jobs
            #expect(first.count == 1, "the idle worker takes one stalled job, alone")
            // Past the first wait, yet the second stalled job waits on: the first was taken alone 2 s ago.
            #expect(try await queue.fetch(for: busy, from: ["default"], limit: 5, now: wentBack.addingTimeInterval(6)).jobs.isEmpty)
            let late = try await queue.fetch(for: busy, from: ["default"], limit: 5, now: wentBack.addingTimeInterval(9.5)).jobs
            #expect(late.count == 1, "five seconds without progress: the busy worker takes it")
            #expect(Set((first + late).map(\.id)) == Set(stalled.map(\.id)))
        }
    }

    /// The poison scenario lost an innocent job this way, twice in CI: it stalled beside the pill, both outwaited
    /// the bound on a loaded machine, and one fetch handed both to one worker, so the pill's second crash killed it.
    @Test("past the bound a fetch takes a stalled job after others but nothing after it, so no worker holds two")
    func pastTheBoundOneAtATime() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let busy = try WorkerID("busy-4")
            let idle = try WorkerID("idle-4")
            for worker in [busy, idle] { try await queue.heartbeat(worker, ttl: .seconds(30)) }
            let long = JobWorkerPoolTests.job(at: Date())
            _ = try await queue.enqueue(long, limits: QueueLimits())
            #expect(try await queue.fetch(for: busy, from: ["default"], limit: 1, now: Date()).jobs.map(\.id) == [long.id])
            let stalled = try await Self.stalledJobs(2, queue: queue, client: client, keys: keys)
            let urgent = JobWorkerPoolTests.job(priority: .high, at: Date())
            _ = try await queue.enqueue(urgent, limits: QueueLimits())
            let fresh = JobWorkerPoolTests.job(at: Date())
            _ = try await queue.enqueue(fresh, limits: QueueLimits())
            let back = try #require(try await client.send("HGET", keys.data(stalled[0].id), "z").string.flatMap(Double.init))
            let late = Date(timeIntervalSince1970: back / 1000).addingTimeInterval(6)

            // Past the bound the stalled job comes after the urgent one (more urgent work cannot starve it), and
            // the fetch stops there: not the second stalled job, not the fresh one.
            let first = try await queue.fetch(for: idle, from: ["default"], limit: 10, now: late).jobs
            #expect(first.map(\.id).first == urgent.id)
            #expect(first.count == 2 && first[1].stalls == 1)
            // Taking it renewed the next one's wait: a worker that holds others does not get it yet.
            #expect(try await queue.fetch(for: busy, from: ["default"], limit: 10, now: late).jobs.isEmpty)
            let second = try await queue.fetch(for: busy, from: ["default"], limit: 10, now: late.addingTimeInterval(6)).jobs
            #expect(second.count == 1 && second[0].stalls == 1, "past its own bound, alone: the fresh job stays")
            #expect(Set([first[1].id, second[0].id]) == Set(stalled.map(\.id)))
            let third = try await queue.fetch(for: busy, from: ["default"], limit: 10, now: late.addingTimeInterval(6)).jobs
            #expect(third.map(\.id) == [fresh.id])
        }
    }

    @Test("a pool runs each stalled job with no other job beside it, then goes back to its full concurrency")
    func poolRunsThemAlone() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let stalled = try await Self.stalledJobs(4, queue: queue, client: client, keys: keys)
            let suspects = Set(stalled.map(\.id))
            let fresh = (0..<20).map { _ in JobWorkerPoolTests.job(at: Date()) }
            for job in fresh { _ = try await queue.enqueue(job, limits: QueueLimits()) }
            let running = Mutex<(now: Set<JobID>, overlaps: Int, mostAtOnce: Int)>(([], 0, 0))
            let log = RunLog()
            var registry = JobRegistry()
            registry.register(JobWorkerPoolTests.echo) { _, context in
                running.withLock { state in
                    state.now.insert(context.job.id)
                    if state.now.count > 1 && !state.now.isDisjoint(with: suspects) { state.overlaps += 1 }
                    state.mostAtOnce = max(state.mostAtOnce, state.now.count)
                }
                try await Task.sleep(for: .milliseconds(50))
                running.withLock { _ = $0.now.remove(context.job.id) }
                log.record(context.job.id)
            }
            let pool = try JobWorkerPoolTests.pool(queue, registry) { $0.concurrency = 5 }
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("every job ran", timeout: .seconds(30)) { log.count == 24 }
            }
            let state = running.withLock { $0 }
            #expect(state.overlaps == 0, "a stalled job ran beside another")
            #expect(state.mostAtOnce == 5, "the fresh jobs still ran five at a time")
            #expect(log.counts.values.allSatisfy { $0 == 1 })
            for job in stalled + fresh { #expect(try await queue.job(job.id)?.status == .completed) }
        }
    }
}

/// Entries written into Redis by hand that are not jobs: each ends dead with a reason, and none stops the
/// worker. Found by the fault suite's raw-entry fuzzing: a key of another type at a job's place failed the
/// whole fetch script (WRONGTYPE) every time, so the worker fetched nothing ever again.
@Suite("Malformed entries in the ready lists", .timeLimit(.minutes(2)))
struct MalformedEntryTests {
    @Test("an id whose key is not a hash, and an id without any key, are dead with a reason; the good job runs")
    func wrongTypeAndMissing() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let wrongType = JobID.generate(at: Date())
            let missing = JobID.generate(at: Date())
            _ = try await client.send("SET", keys.data(wrongType), "not a hash")
            _ = try await client.send("LPUSH", keys.ready(.default, .normal), wrongType.rawValue)
            _ = try await client.send("LPUSH", keys.ready(.default, .normal), missing.rawValue)
            let good = RedisJobQueueTests.job(at: Date())
            _ = try await queue.enqueue(good, limits: QueueLimits())
            let worker = try WorkerID("fuzzed-1")
            try await queue.heartbeat(worker, ttl: .seconds(30))

            let fetched = try await queue.fetch(for: worker, from: ["default"], limit: 10, now: Date()).jobs
            #expect(fetched.map(\.id) == [good.id])
            #expect(try await client.send("HGET", keys.data(wrongType), "s").string == "dead")
            #expect(try await client.send("HGET", keys.data(wrongType), "e").string == "the key of the job \(wrongType) holds a string where a hash belongs")
            #expect(try await client.send("HGET", keys.data(missing), "s").string == "dead")
            #expect(try await client.send("HGET", keys.data(missing), "e").string == "the ready list held the id \(missing), which has no stored job")
            #expect(try await client.send("ZCARD", keys.dead(.default)) == .integer(2))
            #expect(try await client.send("LRANGE", keys.processing(worker: worker.rawValue), 0, -1).array?.compactMap(\.string) == [good.id.rawValue])
            #expect(try await client.send("GET", keys.unfinished(.default)).string == "1", "entries that were never counted are not subtracted")
        }
    }

    @Test("a key of another type in a worker's processing list does not stop its reconcile")
    func reconcileSurvives() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let worker = try WorkerID("fuzzed-2")
            let wrongType = JobID.generate(at: Date())
            _ = try await client.send("SET", keys.data(wrongType), "not a hash")
            _ = try await client.send("LPUSH", keys.processing(worker: worker.rawValue), wrongType.rawValue)
            #expect(try await queue.reconcile(worker, running: []) == 0)
            #expect(try await client.send("LLEN", keys.processing(worker: worker.rawValue)) == .integer(0))
        }
    }
}

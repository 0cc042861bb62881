import BackgroundJobsCore
import BackgroundJobsDomain
import Foundation
import Testing

/// Counts, listings and queue management, against Redis and the in-memory queue alike.
@Suite("JobQueue inspection", .timeLimit(.minutes(2)))
struct JobQueueInspectionTests {
    let worker: WorkerID = try! WorkerID("worker-1")

    static func job(_ queue: QueueName = .default, priority: JobPriority = .normal, delay: Duration? = nil, at now: Date = Date()) -> Job {
        Job(
            id: JobID.generate(at: now), name: "test", payload: Array("{}".utf8),
            options: JobOptions(queue: queue, priority: priority, delay: delay), maxRetries: 3, createdAt: now)
    }

    @Test("counts per priority and status follow every change, and queues are known", arguments: QueueAdapter.allCases)
    func counts(adapter: QueueAdapter) async throws {
        try await adapter.withQueue { queue in
            let now = Date()
            for priority in [JobPriority.high, .high, .low] { _ = try await queue.enqueue(Self.job(priority: priority), limits: QueueLimits()) }
            _ = try await queue.enqueue(Self.job(delay: .seconds(60)), limits: QueueLimits())
            _ = try await queue.enqueue(Self.job("other"), limits: QueueLimits())
            for _ in 0..<3 { _ = try await queue.enqueue(Self.job(priority: .critical), limits: QueueLimits()) }
            let held = try await queue.fetch(for: worker, from: [.default], limit: 5, now: now).jobs
            #expect(held.count == 5)
            _ = try await queue.complete(held[0], by: worker, result: nil, now: now)
            _ = try await queue.fail(held[1], by: worker, error: "later", retryAt: now.addingTimeInterval(60), now: now)
            _ = try await queue.fail(held[2], by: worker, error: "never", retryAt: nil, now: now)
            _ = try await queue.cancel(try #require(try await queue.list(.default, status: .pending, cursor: nil, limit: 1).jobs.first).id, now: now)

            let counts = try await queue.counts(of: .default)
            #expect(counts.pending == [.critical: 0, .high: 0, .normal: 0, .low: 0])
            #expect(counts.scheduled == 1)
            #expect(counts.retrying == 1)
            #expect(counts.processing == 2)
            #expect(counts.completed == 1)
            #expect(counts.dead == 1)
            #expect(counts.cancelled == 1)
            #expect(counts.paused == false)
            #expect(try await queue.queues() == [.default, "other"])
            #expect(try await queue.counts(of: "other").totalPending == 1)
        }
    }

    @Test("paging through a queue returns every job once, in order, while jobs keep arriving", arguments: QueueAdapter.allCases)
    func pagination(adapter: QueueAdapter) async throws {
        try await adapter.withQueue { queue in
            var expected: [JobID] = []
            for priority in [JobPriority.low, .critical, .normal] {
                for _ in 0..<7 {
                    let job = Self.job(priority: priority)
                    _ = try await queue.enqueue(job, limits: QueueLimits())
                }
            }
            for priority in JobPriority.mostUrgentFirst {
                expected += try await queue.list(.default, status: .pending, cursor: nil, limit: 1000).jobs.filter { $0.priority == priority }.map(\.id)
            }
            var seen: [JobID] = []
            var cursor: String?
            repeat {
                let page = try await queue.list(.default, status: .pending, cursor: cursor, limit: 4)
                #expect(page.jobs.count <= 4)
                seen += page.jobs.map(\.id)
                cursor = page.next
                // New jobs arrive between pages; they must not disturb the listing.
                _ = try await queue.enqueue(Self.job(priority: .low), limits: QueueLimits())
            } while cursor != nil
            #expect(Array(seen.prefix(expected.count)) == expected)
            #expect(Set(seen).count == seen.count, "no job twice")
            await #expect(throws: JobQueueError.self) { try await queue.list(.default, status: .pending, cursor: "nonsense", limit: 4) }
        }
    }

    @Test("finished and waiting jobs page by time", arguments: QueueAdapter.allCases)
    func finishedPages(adapter: QueueAdapter) async throws {
        try await adapter.withQueue { queue in
            let start = Date()
            var dead: [JobID] = []
            for index in 0..<9 {
                _ = try await queue.enqueue(Self.job(), limits: QueueLimits())
                let held = try #require(try await queue.fetch(for: worker, from: [.default], limit: 1, now: start).jobs.first)
                _ = try await queue.fail(held, by: worker, error: "no", retryAt: nil, now: start.addingTimeInterval(Double(index)))
                dead.append(held.id)
            }
            var seen: [JobID] = []
            var cursor: String?
            repeat {
                let page = try await queue.list(.default, status: .dead, cursor: cursor, limit: 2)
                seen += page.jobs.map(\.id)
                cursor = page.next
            } while cursor != nil
            #expect(seen == dead)

            var scheduled: [JobID] = []
            for seconds in [30, 10, 20] {
                let job = Self.job(delay: .seconds(seconds), at: start)
                _ = try await queue.enqueue(job, limits: QueueLimits())
                scheduled.append(job.id)
            }
            _ = try await queue.enqueue(Self.job("other", delay: .seconds(15), at: start), limits: QueueLimits())
            let first = try await queue.list(.default, status: .scheduled, cursor: nil, limit: 2)
            #expect(first.jobs.map(\.id) == [scheduled[1], scheduled[2]])
            let second = try await queue.list(.default, status: .scheduled, cursor: first.next, limit: 2)
            #expect(second.jobs.map(\.id) == [scheduled[0]])
            #expect(second.next == nil)
        }
    }

    @Test("a paused queue is not fetched but still takes jobs", arguments: QueueAdapter.allCases)
    func pause(adapter: QueueAdapter) async throws {
        try await adapter.withQueue { queue in
            let now = Date()
            try await queue.setPaused(.default, true)
            let job = Self.job()
            _ = try await queue.enqueue(job, limits: QueueLimits())
            #expect(try await queue.counts(of: .default).paused)
            #expect(try await queue.fetch(for: worker, from: [.default], limit: 5, now: now).jobs.isEmpty)
            try await queue.setPaused(.default, false)
            #expect(try await queue.fetch(for: worker, from: [.default], limit: 5, now: now).jobs.map(\.id) == [job.id])
        }
    }

    @Test("purge deletes the waiting jobs of one queue only; retry-all brings back every dead job", arguments: QueueAdapter.allCases)
    func purgeAndRetryAll(adapter: QueueAdapter) async throws {
        try await adapter.withQueue { queue in
            let now = Date()
            for _ in 0..<5 { _ = try await queue.enqueue(Self.job(), limits: QueueLimits(maxJobs: 10)) }
            for _ in 0..<3 { _ = try await queue.enqueue(Self.job(delay: .seconds(60)), limits: QueueLimits(maxJobs: 10)) }
            let kept = Self.job("other", delay: .seconds(60))
            _ = try await queue.enqueue(kept, limits: QueueLimits())
            let running = try #require(try await queue.fetch(for: worker, from: [.default], limit: 1, now: now).jobs.first)
            #expect(try await queue.purge(.default) == 7)
            let counts = try await queue.counts(of: .default)
            #expect(counts.totalPending == 0 && counts.scheduled == 0 && counts.processing == 1)
            #expect(try await queue.job(kept.id) != nil)
            // The purged jobs freed their places under max_jobs.
            for _ in 0..<9 { _ = try await queue.enqueue(Self.job(), limits: QueueLimits(maxJobs: 10)) }

            _ = try await queue.fail(running, by: worker, error: "no", retryAt: nil, now: now)
            for held in try await queue.fetch(for: worker, from: [.default], limit: 3, now: now).jobs {
                _ = try await queue.fail(held, by: worker, error: "no", retryAt: nil, now: now)
            }
            #expect(try await queue.counts(of: .default).dead == 4)
            #expect(try await queue.retryAllDead(in: .default) == 4)
            let after = try await queue.counts(of: .default)
            #expect(after.dead == 0)
            #expect(after.totalPending == 10)
        }
    }
}

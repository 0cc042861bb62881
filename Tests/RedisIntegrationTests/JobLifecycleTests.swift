import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import Foundation
import Testing

struct Steps: Codable, Sendable {
    var count: Int
}

@Suite("Job life cycle: events, progress, workers, retention", .timeLimit(.minutes(2)))
struct JobLifecycleTests {
    @Test("a job's status changes and its progress arrive as events, in order")
    func events() async throws {
        try await SharedRedis.withQueue { queue, _, _ in
            var registry = JobRegistry()
            registry.register(JobDefinition<Steps>("steps")) { steps, context in
                for step in 1...steps.count { try await context.reportProgress(step * 100 / steps.count) }
            }
            let service = JobService(queue: queue, registry: registry)
            let start = try await queue.events(after: nil, timeout: .milliseconds(1)).cursor
            guard case .submitted(let id) = try await service.submit(JobDefinition<Steps>("steps"), Steps(count: 4)) else {
                Issue.record("expected a stored job")
                return
            }
            let pool = try JobWorkerPool(queue: queue, registry: registry, logger: SharedRedis.logger)
            var changes: [JobEvent.Change] = []
            try await withRunning([pool], logger: SharedRedis.logger) {
                for try await event in service.events(after: start) where event.job == id {
                    changes.append(event.change)
                    if event.change == .status(from: .processing, to: .completed) { break }
                }
            }
            #expect(changes == [
                .status(from: nil, to: .pending), .status(from: .pending, to: .processing),
                .progress(25), .progress(50), .progress(75), .progress(100),
                .status(from: .processing, to: .completed),
            ])
            #expect(try await service.job(id)?.progress == 100)
        }
    }

    @Test("a running pool is listed with what it does, and leaves the list when it stops")
    func workers() async throws {
        try await SharedRedis.withQueue { queue, _, _ in
            let service = JobService(queue: queue)
            let pool = try JobWorkerPool(
                queue: queue, registry: JobRegistry(),
                configuration: .init(queues: try .strict(["mail", "default"]), concurrency: 7), logger: SharedRedis.logger)
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("the pool registered") { try await !service.workers().isEmpty }
                let info = try #require(try await service.workers().first)
                #expect(info.id == pool.worker)
                #expect(info.queues == ["mail", "default"])
                #expect(info.concurrency == 7)
                #expect(info.pid == Int(ProcessInfo.processInfo.processIdentifier))
                #expect(abs(info.startedAt.timeIntervalSinceNow) < 60)
            }
            #expect(try await service.workers().isEmpty)
        }
    }

    @Test("the sweeper trims index entries of jobs past their retention")
    func sweep() async throws {
        try await SharedRedis.withClient { client, prefix in
            let keys = try RedisKeys(prefix: String(prefix.dropLast()))
            let queue = RedisJobQueue(
                client: client, configuration: try .init(keys: keys, completedRetention: .seconds(10)), logger: SharedRedis.logger)
            let worker = try WorkerID("sweeper-test")
            let now = Date()
            for _ in 0..<3 { _ = try await queue.enqueue(JobQueueInspectionTests.job(), limits: QueueLimits()) }
            for job in try await queue.fetch(for: worker, from: [.default], limit: 3, now: now).jobs {
                _ = try await queue.complete(job, by: worker, result: nil, now: now)
            }
            #expect(try await queue.counts(of: .default).completed == 3)
            #expect(try await queue.sweep(now: now) == 0)
            #expect(try await queue.sweep(now: now.addingTimeInterval(11)) == 3)
            #expect(try await client.send("ZCARD", keys.completed(.default)) == .integer(0))
        }
    }
}

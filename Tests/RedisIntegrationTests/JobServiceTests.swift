import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import Foundation
import Testing

@Suite("Job service on Redis", .timeLimit(.minutes(2)))
struct JobServiceTests {
    struct Report: Codable, Sendable, Equatable {
        var month: String
    }

    static let report = JobDefinition<Report>("monthly_report")

    @Test("a typed submission stores the JSON payload with the registry's retry count")
    func typedSubmit() async throws {
        try await SharedRedis.withQueue { queue, _, _ in
            var registry = JobRegistry()
            registry.register(Self.report, retry: .fixed(.seconds(1), maxRetries: 6)) { _, _ in }
            let service = JobService(queue: queue, registry: registry)
            guard case .submitted(let id) = try await service.submit(Self.report, Report(month: "2026-11"), options: JobOptions(priority: .high)) else {
                Issue.record("expected a stored job")
                return
            }
            let stored = try #require(try await service.job(id))
            #expect(try JSONDecoder().decode(Report.self, from: Data(stored.payload)) == Report(month: "2026-11"))
            #expect(stored.maxRetries == 6)
            #expect(stored.priority == .high)
            #expect(stored.status == .pending)
        }
    }

    @Test("bad input is refused with a clear error and nothing is stored", arguments: [
        (JobOptions(delay: .seconds(-5)), Array("{}".utf8), "the delay must not be negative"),
        (JobOptions(queue: "email", priority: .critical), Array("{}".utf8), "the queue email does not accept critical jobs (it accepts normal, high)"),
        (JobOptions(), Array("{\"to\":".utf8), "the payload of send_email is not valid JSON"),
        (JobOptions(), Array("\"".utf8) + [UInt8](repeating: 97, count: 2000) + Array("\"".utf8), "the payload is 2002 bytes, more than the limit of 1024 bytes"),
    ])
    func refused(options: JobOptions, payload: [UInt8], message: String) async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let settings = JobService.Settings(payloadSizeLimit: 1024, queues: [try QueueDefinition(name: "email", priorities: [.normal, .high])])
            let service = JobService(queue: queue, settings: settings)
            let error = try await #require(throws: JobError.self) {
                try await service.submit(name: "send_email", json: payload, options: options)
            }
            #expect(error.message == message)
            let stored = try await client.send("KEYS", "\(keys.prefix):*").array ?? []
            #expect(stored.isEmpty, "nothing is written for a refused submission")
        }
    }

    @Test("a second submission with the same unique key returns the first job's id")
    func uniqueSubmit() async throws {
        try await SharedRedis.withQueue { queue, _, _ in
            let service = JobService(queue: queue)
            let options = JobOptions(uniqueKey: "report:2026-11")
            let first = try await service.submit(Self.report, Report(month: "2026-11"), options: options)
            guard case .submitted(let id) = first else {
                Issue.record("expected a stored job, got \(first)")
                return
            }
            #expect(try await service.submit(Self.report, Report(month: "2026-11"), options: options) == .duplicate(of: id))
        }
    }

    @Test("a queue's max_jobs from its definition is enforced at submission")
    func queueFull() async throws {
        try await SharedRedis.withQueue { queue, _, _ in
            let service = JobService(queue: queue, settings: .init(queues: [try QueueDefinition(name: "cleanup", maxJobs: 1)]))
            _ = try await service.submit(name: "cleanup", json: Array("{}".utf8), options: JobOptions(queue: "cleanup"))
            let error = try await #require(throws: JobQueueError.self) {
                try await service.submit(name: "cleanup", json: Array("{}".utf8), options: JobOptions(queue: "cleanup"))
            }
            #expect(error.code == .queueFull)
        }
    }

    @Test("a batch stores each job on its own; a full queue refuses only the jobs past its limit")
    func batch() async throws {
        try await SharedRedis.withQueue { queue, _, _ in
            let settings = JobService.Settings(queues: [try QueueDefinition(name: "reports", maxJobs: 3)])
            let service = JobService(queue: queue, settings: settings)
            let months = (1...5).map { Report(month: "2026-0\($0)") }
            let outcomes = try await service.submit(Self.report, batch: months, options: JobOptions(queue: "reports"))
            let ids = outcomes.compactMap { outcome -> JobID? in
                if case .success(.submitted(let id)) = outcome { return id } else { return nil }
            }
            #expect(ids.count == 3)
            for case .failure(let error) in outcomes { #expect((error as? JobQueueError)?.code == .queueFull) }
            for id in ids { #expect(try await service.job(id)?.status == .pending) }
            #expect(try await service.cancel(ids[0]) == .cancelled)
            #expect(try await service.job(ids[0])?.status == .cancelled)
        }
    }

    @Test("a batch's payload that is too large fails alone; the jobs beside it, in slices before and after it, are stored")
    func batchTooLarge() async throws {
        try await SharedRedis.withQueue { queue, _, _ in
            let service = JobService(queue: queue, settings: JobService.Settings(payloadSizeLimit: 64))
            var months = (0..<250).map { Report(month: "2026-\($0)") }
            months[130] = Report(month: String(repeating: "x", count: 100))
            let outcomes = try await service.submit(Self.report, batch: months)
            #expect(outcomes.count == months.count)
            for (index, outcome) in outcomes.enumerated() {
                switch outcome {
                case .success(.submitted(let id)):
                    #expect(index != 130)
                    let stored = try await service.job(id)
                    #expect(try stored.map { try JSONDecoder().decode(Report.self, from: Data($0.payload)) } == months[index])
                case .failure(let error):
                    #expect(index == 130)
                    #expect((error as? JobError)?.code == .payloadTooLarge)
                case .success(.duplicate):
                    Issue.record("job \(index) was taken for a duplicate")
                }
            }
            #expect(try await queue.counts(of: .default).totalPending == months.count - 1)
        }
    }

    @Test("single submissions from many tasks at once are each checked on their own: a unique key admits one, a full queue refuses past its limit")
    func concurrentSingles() async throws {
        try await SharedRedis.withQueue { queue, _, _ in
            let settings = JobService.Settings(queues: [try QueueDefinition(name: "capped", maxJobs: 25)])
            let service = JobService(queue: queue, settings: settings)
            let (plain, unique, capped) = try await withThrowingTaskGroup(of: (Int, Int, Int).self) { group in
                for index in 0..<300 {
                    group.addTask {
                        switch index % 3 {
                        case 0:
                            if case .submitted = try await service.submit(Self.report, Report(month: "plain-\(index)")) { return (1, 0, 0) }
                            return (0, 0, 0)
                        case 1:
                            let outcome = try await service.submit(Self.report, Report(month: "once"), options: JobOptions(uniqueKey: "once"))
                            if case .submitted = outcome { return (0, 1, 0) }
                            return (0, 0, 0)
                        default:
                            do {
                                _ = try await service.submit(Self.report, Report(month: "capped"), options: JobOptions(queue: "capped"))
                                return (0, 0, 1)
                            } catch let error as JobQueueError where error.code == .queueFull {
                                return (0, 0, 0)
                            }
                        }
                    }
                }
                return try await group.reduce((0, 0, 0)) { ($0.0 + $1.0, $0.1 + $1.1, $0.2 + $1.2) }
            }
            #expect(plain == 100)
            #expect(unique == 1)
            #expect(capped == 25)
            #expect(try await queue.counts(of: .default).totalPending == 101)
            #expect(try await queue.counts(of: "capped").totalPending == 25)
        }
    }

    @Test("a submitted job runs in a worker pool and keeps its handler's result")
    func endToEnd() async throws {
        struct Total: Codable, Sendable, Equatable { var rows: Int }
        try await SharedRedis.withQueue { queue, _, _ in
            var registry = JobRegistry()
            registry.register(Self.report) { report, _ in Total(rows: report.month.count) }
            let service = JobService(queue: queue, registry: registry)
            guard case .submitted(let id) = try await service.submit(Self.report, Report(month: "2026-11")) else {
                Issue.record("expected a stored job")
                return
            }
            let pool = try JobWorkerPool(queue: queue, registry: registry, logger: SharedRedis.logger)
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("the job completed") { try await service.job(id)?.status == .completed }
            }
            let stored = try #require(try await service.job(id))
            #expect(try JSONDecoder().decode(Total.self, from: Data(try #require(stored.result))) == Total(rows: 7))
            #expect(stored.attempts == 1)
            #expect(stored.startedAt != nil && stored.finishedAt != nil)
        }
    }
}

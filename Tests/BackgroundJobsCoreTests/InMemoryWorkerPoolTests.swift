import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsTesting
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// The worker pool on the in-memory queue: what a user's own handler tests look like.
@Suite("Worker pool on the in-memory queue", .timeLimit(.minutes(1)))
struct InMemoryWorkerPoolTests {
    struct Order: Codable, Sendable { var number: Int }
    static let ship = JobDefinition<Order>("ship")

    @Test("submitted jobs run once each; a failing one is retried, then completes")
    func runs() async throws {
        let queue = InMemoryJobQueue()
        let runs = Mutex<[Int: Int]>([:])
        var registry = JobRegistry()
        registry.register(Self.ship, retry: .fixed(.milliseconds(20), maxRetries: 2)) { order, _ in
            let attempt = runs.withLock { runs in
                runs[order.number, default: 0] += 1
                return runs[order.number]!
            }
            if order.number == 3 && attempt == 1 { throw OutOfStock() }
        }
        let service = JobService(queue: queue, registry: registry)
        var ids: [JobID] = []
        for number in 1...5 {
            if case .submitted(let id) = try await service.submit(Self.ship, Order(number: number)) { ids.append(id) }
        }
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let pool = try JobWorkerPool(queue: queue, registry: registry, configuration: .init(concurrency: 2), logger: logger)
        let group = ServiceGroup(services: [pool], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                var done = 0
                for id in ids where try await service.job(id)?.status == .completed { done += 1 }
                if done == ids.count { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(runs.withLock { $0 } == [1: 1, 2: 1, 3: 2, 4: 1, 5: 1])
        for id in ids { #expect(try await service.job(id)?.status == .completed) }
        #expect(pool.snapshot.processed == 5)
        #expect(pool.snapshot.failed == 1)
    }

    struct OutOfStock: Error {}
}

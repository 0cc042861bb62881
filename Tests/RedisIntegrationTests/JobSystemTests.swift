import BackgroundJobs
import Foundation
import Testing

@Suite("The container", .timeLimit(.minutes(2)))
struct JobSystemTests {
    struct Greeting: Codable, Sendable { var name: String }
    static let greet = JobDefinition<Greeting>("greet")

    static func configuration(prefix: String) throws -> JobSystemConfiguration {
        let yaml = try String(contentsOfFile: ConfigurationTestsPath.shippedFile, encoding: .utf8)
        var configuration = try JobSystemConfiguration(yaml: yaml, source: "configs/jobs.yaml")
            .applyingEnvironment(["REDIS_URL": try SharedRedis.url(), "JOBS_KEY_PREFIX": prefix])
        configuration.workerPool.shutdownTimeout = .seconds(2)
        return configuration
    }

    @Test("a system built from configs/jobs.yaml runs a submitted job, with the seed's queue rules")
    func endToEnd() async throws {
        let prefix = "test-system-\(UUID().uuidString)"
        let done = RunLog()
        var registry = JobRegistry()
        registry.register(Self.greet) { _, context in done.record(context.job.id) }
        let system = try JobSystem.live(configuration: Self.configuration(prefix: prefix), registry: registry, logger: SharedRedis.logger)
        #expect(system.services.count == 4, "metrics collector, sweeper, recurring jobs and the worker pool")
        try await withRunning(system.services, logger: SharedRedis.logger) {
            guard case .submitted(let id) = try await system.service.submit(Self.greet, Greeting(name: "Ada"), options: JobOptions(queue: "email")) else {
                Issue.record("expected a stored job")
                return
            }
            try await waitUntil("the job completed") { try await system.service.job(id)?.status == .completed }
            #expect(done.order == [id])
            // The pool reports an attempt once the queue has recorded it: a moment after the status shows.
            let metrics = try #require(system.metrics)
            try await waitUntil("the completion is counted") {
                metrics.exposition().contains(#"background_jobs_processed_total{queue="email",job_type="greet",status="completed"} 1"#)
            }
            #expect(metrics.exposition().contains(#"background_jobs_enqueued_total{queue="email",job_type="greet",priority="normal"} 1"#))
            // email takes normal and high only, as the seed configures it.
            await #expect(throws: JobError.self) {
                try await system.service.submit(Self.greet, Greeting(name: "Bob"), options: JobOptions(queue: "email", priority: .low))
            }
        }
        try await SharedRedis.deleteKeys(prefix: "\(prefix):", client: system.client)
        await system.shutdown()
    }

    @Test("the api role runs no worker, the worker role no less")
    func roles() async throws {
        let configuration = try Self.configuration(prefix: "test-roles-\(UUID().uuidString)")
        let api = try JobSystem.live(configuration: configuration, registry: JobRegistry(), role: .api, logger: SharedRedis.logger)
        #expect(api.pool == nil && api.recurring == nil && api.services.count == 1, "the api role runs only the metrics collector")
        let worker = try JobSystem.live(configuration: configuration, registry: JobRegistry(), role: .worker, logger: SharedRedis.logger)
        #expect(worker.pool != nil && worker.recurring != nil && worker.services.count == 4)
        var disabled = configuration
        disabled.scheduler.enabled = false
        let quiet = try JobSystem.live(configuration: disabled, registry: JobRegistry(), logger: SharedRedis.logger)
        #expect(quiet.recurring == nil)
        for system in [api, worker, quiet] { await system.shutdown() }
    }
}

enum ConfigurationTestsPath {
    static var shippedFile: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("configs/jobs.yaml").path
    }
}

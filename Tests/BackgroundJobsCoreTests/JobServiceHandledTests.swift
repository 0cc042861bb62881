import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsTesting
import Foundation
import Testing

@Suite("Submissions of job types without a handler")
struct JobServiceHandledTests {
    struct Note: Codable, Sendable { var text: String }

    @Test("with a registry, a JSON submission of a job type it has no handler for is refused and nothing is stored")
    func refused() async throws {
        let queue = InMemoryJobQueue()
        var registry = JobRegistry()
        registry.register(JobDefinition<Note>("note")) { _, _ in }
        let service = JobService(queue: queue, registry: registry)
        let error = try await #require(throws: JobError.self) {
            try await service.submit(name: "no_such_job", json: Array(#"{"text":"x"}"#.utf8))
        }
        #expect(error.code == .invalidJobName)
        #expect(error.message == "no handler is registered for the job type no_such_job")
        #expect(try await queue.counts(of: .default).pending.values.reduce(0, +) == 0)
        guard case .submitted = try await service.submit(name: "note", json: Array(#"{"text":"x"}"#.utf8)) else {
            Issue.record("a handled job type is stored")
            return
        }
        #expect(try await queue.counts(of: .default).pending.values.reduce(0, +) == 1)
    }

    @Test("without a registry, or with an empty one (a producer that knows no handlers), every job type is taken")
    func producer() async throws {
        for service in [JobService(queue: InMemoryJobQueue()), JobService(queue: InMemoryJobQueue(), registry: JobRegistry())] {
            try service.checkHandled("anything")
            guard case .submitted = try await service.submit(name: "anything", json: Array("{}".utf8)) else {
                Issue.record("expected a stored job")
                return
            }
        }
    }

    @Test("the options are checked before the job type, so their message comes first")
    func order() async throws {
        var registry = JobRegistry()
        registry.register(JobDefinition<Note>("note")) { _, _ in }
        let service = JobService(queue: InMemoryJobQueue(), registry: registry)
        let error = try await #require(throws: JobError.self) {
            try await service.submit(name: "no_such_job", json: Array("{}".utf8), options: JobOptions(delay: .seconds(-1)))
        }
        #expect(error.message == "the delay must not be negative")
    }
}

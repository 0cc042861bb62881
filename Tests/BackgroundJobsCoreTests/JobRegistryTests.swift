import BackgroundJobsCore
import BackgroundJobsDomain
import Foundation
import Logging
import Synchronization
import Testing

@Suite("Job registry")
struct JobRegistryTests {
    struct WelcomeEmail: Codable, Sendable, Equatable {
        var to: String
        var name: String
    }

    struct Receipt: Codable, Sendable, Equatable {
        var messageID: String
    }

    static let welcome = JobDefinition<WelcomeEmail>("welcome_email")

    @Test("a handler gets its payload decoded, and its output is stored as JSON")
    func typedHandler() async throws {
        let received = Mutex<[WelcomeEmail]>([])
        var registry = JobRegistry()
        registry.register(Self.welcome) { email, context in
            received.withLock { $0.append(email) }
            #expect(context.job.name == "welcome_email")
            return Receipt(messageID: "m-1")
        }
        let payload = try JSONEncoder().encode(WelcomeEmail(to: "ada@example.com", name: "Ada"))
        let outcome = try await registry.run(Self.context(name: "welcome_email", payload: Array(payload)))
        #expect(received.withLock { $0 } == [WelcomeEmail(to: "ada@example.com", name: "Ada")])
        guard case .completed(let result?) = outcome else {
            Issue.record("expected a completed job with a result, got \(outcome)")
            return
        }
        #expect(try JSONDecoder().decode(Receipt.self, from: Data(result)) == Receipt(messageID: "m-1"))
    }

    @Test("a handler without output completes without a result")
    func noOutput() async throws {
        var registry = JobRegistry()
        registry.register(Self.welcome) { _, _ in }
        let outcome = try await registry.run(Self.context(name: "welcome_email", payload: Array(#"{"to":"a","name":"b"}"#.utf8)))
        #expect(outcome == .completed(result: nil))
    }

    @Test("an unknown job name fails for good with the name in the reason")
    func unknownName() async throws {
        let outcome = try await JobRegistry().run(Self.context(name: "mystery", payload: []))
        #expect(outcome == .failed(reason: "no handler is registered for the job name mystery", retryable: false))
    }

    @Test(
        "a payload that does not decode fails for good, saying where, without quoting it",
        arguments: [
            (#"{"to":"secret@example.com"}"#, "the payload does not decode as WelcomeEmail: the key name is missing at the top level"),
            (#"{"to":42,"name":"x"}"#, "the payload does not decode as WelcomeEmail: expected String at to"),
            (#"{"to":"secret@example.com","#, "the payload does not decode as WelcomeEmail: it is not valid JSON at the top level"),
        ])
    func malformedPayload(json: String, reason: String) async throws {
        var registry = JobRegistry()
        registry.register(Self.welcome) { _, _ in Issue.record("the handler must not run") }
        let outcome = try await registry.run(Self.context(name: "welcome_email", payload: Array(json.utf8)))
        #expect(outcome == .failed(reason: reason, retryable: false))
    }

    @Test("a handler's error is retryable unless it says it is not")
    func errors() async throws {
        struct Timeout: Error, CustomStringConvertible { var description: String { "SMTP server timed out" } }
        var registry = JobRegistry()
        registry.register(JobDefinition<String>("flaky")) { _, _ in throw Timeout() }
        registry.register(JobDefinition<String>("refused")) { _, _ in throw NonRetryableError("550 mailbox does not exist") }
        #expect(try await registry.run(Self.context(name: "flaky", payload: Array(#""x""#.utf8))) == .failed(reason: "SMTP server timed out", retryable: true))
        #expect(try await registry.run(Self.context(name: "refused", payload: Array(#""x""#.utf8))) == .failed(reason: "550 mailbox does not exist", retryable: false))
    }

    @Test("cancellation is passed on, not recorded as a failure")
    func cancellation() async throws {
        var registry = JobRegistry()
        registry.register(JobDefinition<String>("slow")) { _, _ in try await Task.sleep(for: .seconds(60)) }
        let frozen = registry
        let task = Task { try await frozen.run(Self.context(name: "slow", payload: Array(#""x""#.utf8))) }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test("each job type may carry its own retry policy")
    func retryPolicies() {
        var registry = JobRegistry()
        registry.register(Self.welcome, retry: .fixed(.seconds(1), maxRetries: 9)) { _, _ in }
        registry.register(JobDefinition<String>("plain")) { _, _ in }
        #expect(registry.retryPolicy(for: "welcome_email") == .fixed(.seconds(1), maxRetries: 9))
        #expect(registry.retryPolicy(for: "plain") == nil)
        #expect(registry.names == ["welcome_email", "plain"])
    }

    static func context(name: JobName, payload: [UInt8]) -> JobContext {
        let now = Date()
        let job = Job(id: JobID.generate(at: now), name: name, payload: payload, options: JobOptions(), maxRetries: 3, createdAt: now)
        return JobContext(job: job, logger: Logger(label: "test"))
    }
}

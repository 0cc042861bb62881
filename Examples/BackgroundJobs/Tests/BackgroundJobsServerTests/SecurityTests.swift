import BackgroundJobs
@testable import BackgroundJobsServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// A log handler that keeps every line, with its metadata, as text.
struct CapturingLogHandler: LogHandler {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
    }

    let store: Lines
    let label: String
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        let text = "\(event.level) \(label) \(event.message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))"
        store.lines.withLock { $0.append(text) }
    }
}

@Suite("Demo server security", .timeLimit(.minutes(3)))
struct SecurityTests {
    @Test("the bearer token is compared in full, byte by byte, whatever the first difference")
    func tokenComparison() {
        #expect(BearerTokenMiddleware.matches("Bearer abc", "Bearer abc"))
        #expect(!BearerTokenMiddleware.matches("Bearer abd", "Bearer abc"))
        #expect(!BearerTokenMiddleware.matches("Bearer ab", "Bearer abc"))
        #expect(!BearerTokenMiddleware.matches("Bearer abcd", "Bearer abc"))
        #expect(!BearerTokenMiddleware.matches("", "Bearer abc"))
        #expect(!BearerTokenMiddleware.matches(nil, "Bearer abc"))
        #expect(!BearerTokenMiddleware.matches("bearer abc", "Bearer abc"))
    }

    @Test("neither the API token nor a payload appears in any log line, at trace level, through submissions, refusals, runs and failures")
    func nothingSecretIsLogged() async throws {
        guard let url = ProcessInfo.processInfo.environment["REDIS_URL"], !url.isEmpty else {
            throw TestFailure("REDIS_URL is not set: run the tests with `make test`")
        }
        let store = CapturingLogHandler.Lines()
        let logger = Logger(label: "test.security") { CapturingLogHandler(store: store, label: $0) }
        let token = "tok-\(UUID().uuidString)"
        let marker = "secret-payload-\(UUID().uuidString)"
        let prefix = "test-security-\(UUID().uuidString)"
        var configuration = try JobSystemConfiguration().applyingEnvironment(["REDIS_URL": url, "JOBS_KEY_PREFIX": prefix])
        configuration.workerPool.shutdownTimeout = .seconds(1)
        configuration.workerPool.retryDelay = .milliseconds(50)
        configuration.workerPool.maxRetries = 1
        var registry = JobRegistry()
        DemoJobs.register(into: &registry)
        let system = try JobSystem.live(configuration: configuration, registry: registry, logger: logger)
        let app = Application(router: JobsServer.router(system: system, token: token), logger: logger)
        let group = ServiceGroup(configuration: .init(services: system.services.map { .init(service: $0) }, logger: logger))
        let headers: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(token)"]
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            try await app.test(.router) { client in
                let bodies = [
                    #"{"type": "reverse_string", "payload": {"text": "\#(marker)"}}"#,
                    #"{"type": "fibonacci_calc", "payload": {"n": "\#(marker)"}}"#,
                    #"{"type": "fail", "payload": {"retryable": true, "extra": "\#(marker)"}}"#,
                    #"{"type": "sleep", "payload": {"ms": 10, "note": "\#(marker)"}, "unique_key": "\#(marker)"}"#,
                ]
                var ids: [String] = []
                for body in bodies {
                    let response = try await client.execute(uri: "/jobs", method: .post, headers: headers, body: ByteBuffer(string: body))
                    #expect(response.status == .created)
                    let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                    ids.append(try #require(object?["id"] as? String))
                }
                let refusals = [
                    (#"{"type": "no_such_job", "payload": {"text": "\#(marker)"}}"#, HTTPResponse.Status.badRequest),
                    (#"{"type": "reverse_string", "payload": {"text": "\#(marker)"}, "queue": 5}"#, .badRequest),
                    (#"{"type": "reverse_string", "payload": {"text": "\#(marker)""#, .badRequest),
                ]
                for (body, status) in refusals {
                    let response = try await client.execute(uri: "/jobs", method: .post, headers: headers, body: ByteBuffer(string: body))
                    #expect(response.status == status)
                }
                for presented in ["Bearer \(token.dropLast())", "Bearer \(token)x", token] {
                    let response = try await client.execute(
                        uri: "/jobs", method: .post, headers: [.contentType: "application/json", .authorization: presented],
                        body: ByteBuffer(string: bodies[0]))
                    #expect(response.status == .unauthorized)
                }
                let deadline = ContinuousClock.now + .seconds(20)
                var finished = false
                while !finished && ContinuousClock.now < deadline {
                    finished = true
                    for id in ids {
                        let response = try await client.execute(uri: "/jobs/\(id)", method: .get, headers: headers)
                        let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                        if !["completed", "dead"].contains(object?["status"] as? String ?? "") { finished = false }
                    }
                    if !finished { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(finished, "every job ended")
            }
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
        _ = try? await system.client.send("EVAL", "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end", 0, "\(prefix):*")
        await system.shutdown()

        let lines = store.all
        #expect(lines.contains { $0.contains("worker pool started") }, "the capture sees the server's log")
        #expect(lines.contains { $0.contains("job failed") }, "per-job lines at debug level were captured too")
        let leaks = lines.filter { $0.contains(token) || $0.contains(marker) }
        #expect(leaks.isEmpty, "\(leaks.count) log lines hold the token or a payload: \(leaks.prefix(3))")
    }
}

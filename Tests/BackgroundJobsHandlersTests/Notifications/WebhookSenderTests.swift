import AsyncHTTPClient
import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsNotifications
import Foundation
import Logging
import NIOHTTP1
import Testing

@Suite("Webhook notifications", .timeLimit(.minutes(2)))
struct WebhookSenderTests {
    static let secret = Array("whsec-test-secret".utf8)

    /// Runs `body` with a sender whose client is shut down afterwards, even when `body` throws.
    static func withSender(
        _ configuration: WebhookConfiguration = WebhookConfiguration(secret: secret), _ body: (WebhookSender) async throws -> Void
    ) async throws {
        let client = WebhookSender.makeHTTPClient()
        do {
            try await body(WebhookSender(httpClient: client, configuration: configuration))
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// Runs the `notification` handler through a registry, as a worker would, and returns its outcome.
    static func outcome(of notification: WebhookNotification, sender: WebhookSender) async throws -> (JobOutcome, Job) {
        var registry = JobRegistry()
        sender.register(into: &registry)
        let job = Job(
            id: JobID.generate(at: Date()), name: "notification", payload: Array(try JSONEncoder().encode(notification)), options: JobOptions(),
            maxRetries: 3, createdAt: Date())
        return (try await registry.run(JobContext(job: job, logger: Logger(label: "test"))), job)
    }

    @Test("a delivery POSTs the event as signed JSON, with the job id as delivery id, and keeps status and time")
    func delivered() async throws {
        let server = try await TestHTTPServer { _ in .init(status: .ok, body: "thanks") }
        try await Self.withSender { sender in
            let notification = WebhookNotification(
                url: "http://127.0.0.1:\(server.port)/hooks/orders?token=abc", event: "order.shipped",
                data: .object(["order": .number(42), "items": .array([.string("book")])]), headers: ["X-Tenant": "acme"])
            let (outcome, job) = try await Self.outcome(of: notification, sender: sender)
            guard case .completed(let result?) = outcome else { Issue.record("not completed: \(outcome)"); return }
            let delivery = try JSONDecoder().decode(WebhookDelivery.self, from: Data(result))
            #expect(delivery.status == 200)
            #expect(delivery.milliseconds >= 0)

            let request = try #require(server.requests.first)
            #expect(server.requests.count == 1)
            #expect(request.method == .POST)
            #expect(request.uri == "/hooks/orders?token=abc")
            #expect(request.headers["Content-Type"] == ["application/json"])
            #expect(request.headers["X-Tenant"] == ["acme"])
            #expect(request.headers["X-BackgroundJobs-Event"] == ["order.shipped"])
            #expect(request.headers["X-BackgroundJobs-Delivery"] == [job.id.rawValue])
            let body = try JSONDecoder().decode([String: JSONValue].self, from: Data(request.body))
            #expect(body["event"] == .string("order.shipped"))
            #expect(body["data"] == .object(["order": .number(42), "items": .array([.string("book")])]))
            #expect(body["delivery_id"] == .string(job.id.rawValue))

            let timestamp = try #require(request.headers[WebhookSignature.timestampHeader].first.flatMap { Int($0) })
            #expect(abs(timestamp - Int(Date().timeIntervalSince1970)) < 60)
            let signature = try #require(request.headers[WebhookSignature.header].first)
            #expect(signature.hasPrefix("sha256=") && signature.count == 7 + 64)
            #expect(WebhookSignature.verify(signature, body: request.body, timestamp: timestamp, secret: Self.secret))
            #expect(!WebhookSignature.verify(signature, body: request.body + [32], timestamp: timestamp, secret: Self.secret))
            #expect(!WebhookSignature.verify(signature, body: request.body, timestamp: timestamp + 1, secret: Self.secret))
            #expect(!WebhookSignature.verify(signature, body: request.body, timestamp: timestamp, secret: Array("other".utf8)))
        }
        try await server.shutdown()
    }

    @Test("the signature is the documented HMAC-SHA256 over timestamp.body")
    func signatureVector() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'key'
        let signature = WebhookSignature.sign(body: Array(#"{"a":1}"#.utf8), timestamp: 1_700_000_000, secret: Array("key".utf8))
        #expect(signature == "sha256=" + Self.opensslHMAC(message: #"1700000000.{"a":1}"#, key: "key"))
    }

    @Test("5xx, 408 and 429 are retried; other 4xx and 3xx make the job dead with the receiver's answer", arguments: [
        (500, true), (502, true), (503, true), (408, true), (429, true), (400, false), (401, false), (404, false), (410, false),
        (301, false), (302, false),
    ])
    func statusClasses(status: Int, retryable: Bool) async throws {
        let server = try await TestHTTPServer { _ in .init(status: HTTPResponseStatus(statusCode: status), body: "answer \(status)") }
        try await Self.withSender { sender in
            let notification = WebhookNotification(url: "http://127.0.0.1:\(server.port)/hook", event: "ping")
            let (outcome, _) = try await Self.outcome(of: notification, sender: sender)
            guard case .failed(let reason, let wasRetryable) = outcome else { Issue.record("not failed: \(outcome)"); return }
            #expect(wasRetryable == retryable)
            #expect(reason.contains("answered \(status)") || reason.contains("with \(status)"), "reason: \(reason)")
            #expect(reason.contains("answer \(status)"), "the receiver's answer is in the reason: \(reason)")
            #expect(!reason.contains("/hook"), "the path is left out of messages")
        }
        try await server.shutdown()
    }

    @Test("a receiver that does not answer in time is retried")
    func timeout() async throws {
        let server = try await TestHTTPServer { _ in .init(status: .ok, delay: .seconds(8)) }
        try await Self.withSender(WebhookConfiguration(timeout: .milliseconds(300))) { sender in
            let started = ContinuousClock.now
            let (outcome, _) = try await Self.outcome(of: WebhookNotification(url: "http://127.0.0.1:\(server.port)/slow", event: "ping"), sender: sender)
            #expect(ContinuousClock.now - started < .seconds(5), "it gives up at its timeout, not when the answer comes")
            guard case .failed(let reason, true) = outcome else { Issue.record("not a retryable failure: \(outcome)"); return }
            #expect(reason.contains("no answer from http://127.0.0.1:\(server.port) within"), "reason: \(reason)")
        }
        try await server.shutdown()
    }

    @Test("a refused connection is retried; a malformed or disallowed URL makes the job dead")
    func unreachableAndRefused() async throws {
        try await Self.withSender(WebhookConfiguration(timeout: .seconds(1), allowedHosts: ["127.0.0.1"])) { sender in
            // A port nothing listens on: bind one and close it.
            let server = try await TestHTTPServer { _ in .init(status: .ok) }
            let port = server.port
            try await server.shutdown()
            let (refused, _) = try await Self.outcome(of: WebhookNotification(url: "http://127.0.0.1:\(port)/", event: "ping"), sender: sender)
            guard case .failed(_, true) = refused else { Issue.record("a refused connection is not retryable: \(refused)"); return }

            for url in ["ftp://127.0.0.1/x", "not a url", "http:///nohost"] {
                let (outcome, _) = try await Self.outcome(of: WebhookNotification(url: url, event: "ping"), sender: sender)
                guard case .failed(let reason, false) = outcome else { Issue.record("\(url) should fail for good: \(outcome)"); continue }
                #expect(reason.contains("not an http or https URL"), "reason: \(reason)")
            }
            let (elsewhere, _) = try await Self.outcome(of: WebhookNotification(url: "http://example.com/", event: "ping"), sender: sender)
            guard case .failed(let reason, false) = elsewhere else { Issue.record("a disallowed host should fail for good"); return }
            #expect(reason == "the webhook host example.com is not among the allowed hosts")
        }
    }

    static func opensslHMAC(message: String, key: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["dgst", "-sha256", "-hmac", key]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try? process.run()
        input.fileHandleForWriting.write(Data(message.utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    }
}

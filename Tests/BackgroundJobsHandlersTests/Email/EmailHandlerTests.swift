import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsEmail
import BackgroundJobsTesting
import Foundation
import Logging
import ServiceLifecycle
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Email jobs", .timeLimit(.minutes(3)))
struct EmailHandlerTests {
    static let from = try! EmailAddress("jobs@example.com", name: "Demo Jobs")

    /// A mailer on `server` with `configure`d settings, closed afterwards.
    static func withHandler(
        _ server: TestSMTPServer, configure: (inout SMTPConfiguration) -> Void = { _ in }, _ body: (EmailHandler, SMTPMailer) async throws -> Void
    ) async throws {
        var configuration = SMTPConfiguration(host: "127.0.0.1", port: server.port, security: .none, commandTimeout: .seconds(5))
        configure(&configuration)
        let mailer = SMTPMailer(configuration: configuration, logger: TestRedis.logger)
        let handler = EmailHandler(mailer: mailer, configuration: .init(from: Self.from, appName: "Demo"))
        do {
            try await body(handler, mailer)
        } catch {
            await mailer.close()
            throw error
        }
        await mailer.close()
    }

    static func job(_ payload: String) -> Job {
        Job(id: JobID.generate(at: Date()), name: "email", payload: Array(payload.utf8), options: JobOptions(), maxRetries: 3, createdAt: Date())
    }

    static func run(_ handler: EmailHandler, _ payload: String) async throws -> (JobOutcome, Job) {
        var registry = JobRegistry()
        handler.register(into: &registry)
        let job = Self.job(payload)
        return (try await registry.run(JobContext(job: job, logger: TestRedis.logger)), job)
    }

    @Test("a welcome email arrives as multipart text and HTML, UTF-8 headers encoded, the HTML escaped, the Message-ID from the job")
    func welcome() async throws {
        let server = try await TestSMTPServer()
        defer { server.stop() }
        try await Self.withHandler(server) { handler, _ in
            let payload = #"{"email_type": "welcome", "to": {"email": "ada@example.com", "name": "Ada Lövelace"}, "username": "Ada <b>Ö</b>"}"#
            let (outcome, job) = try await Self.run(handler, payload)
            guard case .completed(let result?) = outcome else { Issue.record("\(outcome)"); return }
            let report = try JSONDecoder().decode(EmailReport.self, from: Data(result))
            #expect(report.delivered == ["ada@example.com"] && report.refused.isEmpty)

            let received = try #require(server.messages.first)
            #expect(server.messages.count == 1)
            #expect(received.mail_from == "jobs@example.com")
            #expect(received.rcpt_tos == ["ada@example.com"])
            #expect(!received.tls)
            let message = ParsedMessage(received.data)
            #expect(message.headers["from"] == "Demo Jobs <jobs@example.com>")
            #expect(message.headers["to"] == "Ada Lövelace <ada@example.com>")
            #expect(message.rawHeaders["to"]?.hasPrefix("=?UTF-8?B?") == true, "the name is an encoded word")
            #expect(message.headers["subject"] == "Welcome to Demo, Ada <b>Ö</b>!")
            #expect(message.rawHeaders["subject"]?.allSatisfy(\.isASCII) == true)
            #expect(message.headers["message-id"] == "<\(job.id.rawValue)@localhost>")
            #expect(message.headers["mime-version"] == "1.0")
            #expect(message.contentType.hasPrefix("multipart/alternative; boundary="))
            #expect(message.text?.contains("Hello Ada <b>Ö</b>,") == true, "the text part is not escaped: \(message.text ?? "")")
            #expect(message.html?.contains("Hello Ada &lt;b&gt;Ö&lt;/b&gt;,") == true, "the HTML part is escaped: \(message.html ?? "")")
            #expect(received.data.split(separator: "\r\n", omittingEmptySubsequences: false).allSatisfy { $0.utf8.count <= 998 })
        }
    }

    @Test("STARTTLS when offered and configured, then AUTH; a wrong password fails for good with the server's reply")
    func startTLSAndAuth() async throws {
        try await withTemporaryDirectory { directory in
            let (certificate, key) = try TestSMTPServer.makeCertificate(in: directory)
            let server = try await TestSMTPServer(arguments: ["--auth", "mailer:s3cret", "--tls-cert", certificate, "--tls-key", key])
            defer { server.stop() }
            let payload = #"{"email_type": "notification", "to": "ops@example.com", "data": {"title": "Disk almost full", "message": "91 % used"}}"#
            try await Self.withHandler(server, configure: {
                $0.security = .startTLS
                $0.trust = .certificates(pemFile: certificate)
                $0.username = "mailer"
                $0.password = "s3cret"
            }) { handler, _ in
                let (outcome, _) = try await Self.run(handler, payload)
                guard case .completed = outcome else { Issue.record("\(outcome)"); return }
                let received = try #require(server.messages.first)
                #expect(received.tls)
                #expect(received.login == "mailer")
                let message = ParsedMessage(received.data)
                #expect(message.headers["subject"] == "Disk almost full")
                #expect(message.text?.hasPrefix("91 % used") == true)
            }
            try await Self.withHandler(server, configure: {
                $0.security = .startTLS
                $0.trust = .certificates(pemFile: certificate)
                $0.username = "mailer"
                $0.password = "wrong"
            }) { handler, _ in
                let (outcome, _) = try await Self.run(handler, payload)
                guard case .failed(let reason, false) = outcome else { Issue.record("\(outcome)"); return }
                #expect(reason.contains("refused the credentials") && reason.contains("535"), "reason: \(reason)")
                #expect(!reason.contains("wrong"), "the password is never in a message")
            }
            // A certificate the client does not trust: the handshake fails, and nothing is sent.
            try await Self.withHandler(server, configure: { $0.security = .startTLS }) { handler, _ in
                let (outcome, _) = try await Self.run(handler, payload)
                guard case .failed(let reason, _) = outcome else { Issue.record("\(outcome)"); return }
                #expect(reason.contains("TLS"), "reason: \(reason)")
            }
            #expect(server.messages.count == 1)
        }
    }

    @Test("AUTH LOGIN when the server offers it alone")
    func authLogin() async throws {
        let server = try await TestSMTPServer(arguments: ["--auth", "mailer:s3cret", "--login-only"])
        defer { server.stop() }
        try await Self.withHandler(server, configure: { $0.username = "mailer"; $0.password = "s3cret" }) { handler, _ in
            let (outcome, _) = try await Self.run(handler, #"{"email_type": "welcome", "to": "ada@example.com"}"#)
            guard case .completed = outcome else { Issue.record("\(outcome)"); return }
        }
        #expect(server.messages.first?.login == "mailer")
    }

    @Test("a server that accepts the connection and never answers is a timeout, retried")
    func silentServer() async throws {
        // A listening socket nobody reads from: the kernel completes the connection, no greeting comes.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(listen(fd, 8) == 0)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = Int(UInt16(bigEndian: bound.sin_port))

        let mailer = SMTPMailer(configuration: SMTPConfiguration(host: "127.0.0.1", port: port, security: .none, commandTimeout: .milliseconds(300)), logger: TestRedis.logger)
        let handler = EmailHandler(mailer: mailer, configuration: .init(from: Self.from))
        let started = ContinuousClock.now
        let (outcome, _) = try await Self.run(handler, #"{"email_type": "welcome", "to": "ada@example.com"}"#)
        await mailer.close()
        // The configured 300 ms, not the 30 s default: a bound far from both, since a loaded machine (the whole
        // suite in parallel on two cores) once took 3.6 s.
        #expect(ContinuousClock.now - started < .seconds(10))
        guard case .failed(let reason, true) = outcome else { Issue.record("\(outcome)"); return }
        #expect(reason == "the SMTP server did not answer with its greeting in time")
    }

    @Test("a server without STARTTLS is refused when TLS is required, and used in the clear when only preferred")
    func startTLSRequired() async throws {
        let server = try await TestSMTPServer()
        defer { server.stop() }
        let payload = #"{"email_type": "welcome", "to": "ada@example.com"}"#
        try await Self.withHandler(server, configure: { $0.security = .startTLS }) { handler, _ in
            let (outcome, _) = try await Self.run(handler, payload)
            guard case .failed(let reason, false) = outcome else { Issue.record("\(outcome)"); return }
            #expect(reason == "the SMTP server at 127.0.0.1:\(server.port) does not offer STARTTLS, which the configuration requires")
        }
        try await Self.withHandler(server, configure: { $0.security = .startTLSIfOffered }) { handler, _ in
            let (outcome, _) = try await Self.run(handler, payload)
            guard case .completed = outcome else { Issue.record("\(outcome)"); return }
        }
        #expect(server.messages.count == 1)
    }

    @Test("through a worker pool: 4xx recipients are retried, only they, 5xx recorded and dropped; the result lists both")
    func retriesOnlyTransientRecipients() async throws {
        let server = try await TestSMTPServer()
        defer { server.stop() }
        try await Self.withHandler(server) { handler, _ in
            let queue = InMemoryJobQueue()
            var registry = JobRegistry()
            handler.register(into: &registry, retry: .exponential(initialDelay: .milliseconds(50), maxDelay: .milliseconds(50), maxRetries: 3, jitter: 0))
            let payload = #"{"email_type": "welcome", "to": ["ok@example.com", "greylist@example.com", "permfail@example.com"], "username": "team"}"#
            let job = Self.job(payload)
            _ = try await queue.enqueue(job, limits: QueueLimits())
            let pool = try JobWorkerPool(queue: queue, registry: registry, configuration: .init(concurrency: 1), logger: TestRedis.logger)
            let group = ServiceGroup(services: [pool], logger: TestRedis.logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let deadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < deadline, try await queue.job(job.id)?.status != .completed { try await Task.sleep(for: .milliseconds(20)) }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            let done = try #require(try await queue.job(job.id))
            #expect(done.status == .completed)
            #expect(done.attempts == 2)
            let report = try JSONDecoder().decode(EmailReport.self, from: Data(try #require(done.result)))
            #expect(report.delivered == ["ok@example.com", "greylist@example.com"])
            #expect(report.refused.map(\.email) == ["permfail@example.com"])
            #expect(report.refused.first?.reason.contains("550") == true)
            // Two messages: the first to the one who took it, the retry to the greylisted one only; both name all three.
            #expect(server.messages.map(\.rcpt_tos) == [["ok@example.com"], ["greylist@example.com"]])
            #expect(Set(server.messages.map { ParsedMessage($0.data).headers["message-id"] ?? "" }).count == 1, "the same Message-ID on both")
            #expect(ParsedMessage(server.messages[1].data).headers["to"] == "ok@example.com, greylist@example.com, permfail@example.com")
        }
    }

    @Test("a campaign sends one personal message per recipient, records each result, and retries only those not reached")
    func campaign() async throws {
        let server = try await TestSMTPServer()
        defer { server.stop() }
        try await Self.withHandler(server) { handler, _ in
            let recipients = (1...8).map { #"{"email": "reader\#($0)@example.com", "name": "Reader \#($0)"}"# }
                + [#""greylist-9@example.com""#, #""permfail-10@example.com""#, #""datafail-11@example.com""#]
            let payload = """
                {"email_type": "campaign", "recipients": [\(recipients.joined(separator: ", "))],
                 "data": {"subject": "December news", "text": "Snow is coming.", "html": "<p>Snow is <em>coming</em>.</p>"}}
                """
            var job = Self.job(payload)
            var registry = JobRegistry()
            handler.register(into: &registry)
            let stored = PayloadBox()
            func context(for job: Job) -> JobContext {
                JobContext(job: job, logger: TestRedis.logger, payloadWriter: { bytes in stored.set(bytes); return true })
            }
            let first = try await registry.run(context(for: job))
            guard case .failed(let reason, true) = first else { Issue.record("\(first)"); return }
            #expect(reason.hasPrefix("1 recipient(s) not reached yet: greylist-9@example.com"), "reason: \(reason)")
            let progress = try JSONDecoder().decode(EmailRequest.self, from: Data(try #require(stored.value)))
            #expect(Set(progress.delivered) == Set((1...8).map { "reader\($0)@example.com" }))
            #expect(Set(progress.refused.map(\.email)) == ["permfail-10@example.com", "datafail-11@example.com"])
            #expect(server.messages.count == 8)
            let greeting = server.messages.compactMap { ParsedMessage($0.data).text }.first { $0.contains("Reader 3") }
            #expect(greeting?.hasPrefix("Hello Reader 3,\n\nSnow is coming.") == true, "\(greeting ?? "")")
            #expect(server.messages.allSatisfy { $0.rcpt_tos.count == 1 })

            job.payload = try #require(stored.value)
            let second = try await registry.run(context(for: job))
            guard case .completed(let result?) = second else { Issue.record("\(second)"); return }
            let report = try JSONDecoder().decode(EmailReport.self, from: Data(result))
            #expect(report.delivered.count == 9 && report.delivered.contains("greylist-9@example.com"))
            #expect(report.refused.count == 2)
            #expect(server.messages.count == 9, "the retry sent to the greylisted recipient alone")
            #expect(server.messages.last?.rcpt_tos == ["greylist-9@example.com"])
        }
    }

    @Test("no server is a retryable failure; bad addresses, a line break in the subject, a missing field fail for good")
    func failures() async throws {
        let server = try await TestSMTPServer()
        let port = server.port
        server.stop()
        try await Self.withHandler(server, configure: { $0.port = port; $0.connectTimeout = .seconds(2) }) { handler, _ in
            let (down, _) = try await Self.run(handler, #"{"email_type": "welcome", "to": "ada@example.com"}"#)
            guard case .failed(let reason, true) = down else { Issue.record("\(down)"); return }
            #expect(reason.contains("could not connect to the SMTP server at 127.0.0.1:\(port)"), "reason: \(reason)")

            for (payload, expected) in [
                (#"{"email_type": "welcome", "to": "not an address"}"#, "not an email address this mailer can send to at to"),
                (#"{"email_type": "welcome", "to": ["ok@example.com", "ada@example.com\r\nBcc: evil@example.com"]}"#, "not an email address this mailer can send to at to.1"),
                (#"{"email_type": "welcome", "to": "ada@example.com", "subject": "Hi\r\nBcc: evil@example.com"}"#, "the Subject header contains a line break"),
                (#"{"email_type": "password_reset", "to": "ada@example.com"}"#, "a password_reset email needs data.reset_url"),
                (#"{"email_type": "template", "to": "ada@example.com", "template": "nonesuch"}"#, "there is no email template named \"nonesuch\""),
                (#"{"email_type": "welcome"}"#, "an welcome email needs \"to\""),
            ] {
                let (outcome, _) = try await Self.run(handler, payload)
                guard case .failed(let reason, false) = outcome else { Issue.record("\(payload): \(outcome)"); continue }
                #expect(reason.contains(expected), "\(payload): \(reason)")
            }
        }
    }

    @Test("templates from a folder replace and join the built-in ones")
    func templateFolder() async throws {
        try await withTemporaryDirectory { folder in
            try writeFile(folder + "/invoice.subject.mustache", "Invoice {{number}}\n")
            try writeFile(folder + "/invoice.text.mustache", "Total: {{total}} & due {{due}}")
            try writeFile(folder + "/invoice.html.mustache", "<p>Total: {{total}}</p>")
            try writeFile(folder + "/welcome.subject.mustache", "Hi {{username}}")
            try writeFile(folder + "/welcome.text.mustache", "Custom welcome")
            let templates = try EmailTemplates(directory: folder)
            #expect(templates.names.isSuperset(of: ["welcome", "password_reset", "notification", "campaign", "invoice"]))
            let invoice = try templates.render("invoice", data: ["number": 7, "total": "12 €", "due": "<soon>"])
            #expect(invoice.subject == "Invoice 7")
            #expect(invoice.text == "Total: 12 € & due <soon>")
            #expect(invoice.html == "<p>Total: 12 €</p>")
            let welcome = try templates.render("welcome", data: ["username": "Ada"])
            #expect(welcome.subject == "Hi Ada" && welcome.text == "Custom welcome" && welcome.html == nil)

            try writeFile(folder + "/broken.text.mustache", "no subject beside me")
            #expect(throws: EmailError.self) { try EmailTemplates(directory: folder) }
        }
    }
}

/// The payload a handler stored, as a fake queue would keep it.
final class PayloadBox: @unchecked Sendable {
    // Guarded by the lock.
    private let lock = NSLock()
    private var stored: [UInt8]?
    func set(_ bytes: [UInt8]) { lock.lock(); stored = bytes; lock.unlock() }
    var value: [UInt8]? { lock.lock(); defer { lock.unlock() }; return stored }
}

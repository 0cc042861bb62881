import BackgroundJobs
import BackgroundJobsEmail
import BackgroundJobsCleanup
import BackgroundJobsFiles
import BackgroundJobsHandlers
import BackgroundJobsNotifications
import Foundation
import Testing

@Suite("Handlers configuration")
struct HandlersConfigurationTests {
    static var shippedFile: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("configs/jobs.yaml").path
    }

    @Test("configs/jobs.yaml sets up every family; the environment overrides host, port, roots and secret")
    func shipped() throws {
        let yaml = try String(contentsOfFile: Self.shippedFile, encoding: .utf8)
        let configuration = try BuiltInHandlers.Configuration(yaml: yaml, source: "configs/jobs.yaml")
        let email = try #require(configuration.email)
        #expect((email.smtp.host, email.smtp.port, email.from.address, email.from.name) == ("localhost", 25, "jobs@localhost", "BackgroundJobs"))
        #expect(email.smtp.security == .startTLSIfOffered)
        #expect(configuration.files?.roots == ["/tmp/backgroundjobs/files"])
        #expect(configuration.cleanup.temporaryRoots == ["/tmp/backgroundjobs/tmp"])
        #expect(configuration.cleanup.logRetention == .seconds(30 * 86_400))
        #expect(configuration.notifications?.timeout == .seconds(10))
        #expect(configuration.notifications?.secret == nil)

        let overridden = try BuiltInHandlers.Configuration(yaml: yaml, environment: [
            "JOBS_SMTP_HOST": "127.0.0.1", "JOBS_SMTP_PORT": "2525", "JOBS_SMTP_SECURITY": "none", "JOBS_FILE_ROOTS": "/srv/a:/srv/b",
            "JOBS_WEBHOOK_SECRET": "s3cret",
        ])
        #expect((overridden.email?.smtp.host, overridden.email?.smtp.port) == ("127.0.0.1", 2525))
        #expect(overridden.email?.smtp.security == SMTPConfiguration.Security.none)
        #expect(overridden.files?.roots == ["/srv/a", "/srv/b"])
        #expect(overridden.notifications?.secret == Array("s3cret".utf8))
    }

    @Test("without a handlers section only cleanup is built; bad values stop with the key", arguments: [
        ("handlers:\n  email:\n    port: 25\n", "handlers.email needs host (or JOBS_SMTP_HOST)"),
        ("handlers:\n  email:\n    host: x\n", "handlers.email needs from (or JOBS_EMAIL_FROM)"),
        ("handlers:\n  email:\n    host: x\n    from: not-an-address\n", "handlers.email.from: \"not-an-address\" is not an email address this mailer can send to"),
        ("handlers:\n  files:\n    max_bytes: 10\n", "test.yaml: handlers.files (line 3) needs roots: the folders files may be read from and written to"),
        ("handlers:\n  cleanup:\n    temp_max_age: soon\n", "test.yaml: handlers.cleanup.temp_max_age (line 3) must be a duration such as \"500ms\", \"30s\", \"5m\" or \"1h30m\", not \"soon\""),
        ("handlers:\n  pager: {}\n", "test.yaml: handlers.pager (line 2) is not a known key (known here: cleanup, email, files, notifications)"),
    ])
    func refused(yaml: String, message: String) {
        #expect(throws: ConfigurationError(message)) { try BuiltInHandlers.Configuration(yaml: yaml, source: "test.yaml") }
    }

    @Test("a file that is not YAML stops with its name and the parser's reason")
    func notYAML() {
        do {
            _ = try BuiltInHandlers.Configuration(yaml: "handlers: {email: [\n", source: "test.yaml")
            Issue.record("a document with an unclosed flow mapping was read")
        } catch {
            #expect(error.message.hasPrefix("test.yaml is not valid YAML: "))
        }
    }

    @Test("no handlers section: no email, files or notifications")
    func none() throws {
        let configuration = try BuiltInHandlers.Configuration(yaml: "jobs:\n  enabled: true\n")
        #expect(configuration.email == nil && configuration.files == nil && configuration.notifications == nil)
    }
}

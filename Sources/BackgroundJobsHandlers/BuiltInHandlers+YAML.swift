public import BackgroundJobs
import BackgroundJobsCleanup
import BackgroundJobsDomain
import BackgroundJobsEmail
import BackgroundJobsFiles
import BackgroundJobsNotifications
import Yams

/// Reading the handlers' settings from the `handlers` section of the configuration file (the rest of the
/// file is the job system's). A family whose section is absent is left out, but for cleanup, which always
/// runs (job data needs nothing else).
///
/// ```yaml
/// handlers:
///   email:         { host: smtp.example.com, port: 587, security: starttls, username: jobs, password: "…",
///                    ca_file: /etc/ssl/private-ca.pem, from: jobs@example.com, from_name: Example,
///                    app_name: Example, templates: configs/email-templates }
///   files:         { roots: [/srv/uploads], max_bytes: 104857600, max_dimension: 20000 }
///   cleanup:       { temp_roots: [/srv/tmp], temp_max_age: 24h, log_roots: [/var/log/example],
///                    log_rotate_bytes: 10485760, log_compress_after: 1d, log_retention: 30d }
///   notifications: { secret: "…", timeout: 10s, allowed_hosts: [hooks.example.com] }
/// ```
///
/// Environment variables override the file: `JOBS_SMTP_HOST`, `JOBS_SMTP_PORT`, `JOBS_SMTP_SECURITY`,
/// `JOBS_SMTP_USERNAME`, `JOBS_SMTP_PASSWORD`, `JOBS_EMAIL_FROM`, `JOBS_FILE_ROOTS` (paths separated by
/// `:`) and `JOBS_WEBHOOK_SECRET`; secrets are better there than in the file.
extension BuiltInHandlers.Configuration {
    /// Reads the `handlers` section of `yaml`; `source` (the file's path) goes into error messages.
    public init(yaml: String, source: String = "the configuration", environment: [String: String] = [:]) throws(ConfigurationError) {
        self.init()
        let reader = YAMLReader(source: source)
        let root = try reader.root(of: yaml)
        var email: [String: Node] = [:]
        var emailNode: Node?
        if let root, let section = root.mapping?["handlers"] {
            let handlers = try reader.mapping(section, "handlers", allowed: ["email", "files", "cleanup", "notifications"])
            if let node = handlers["email"] {
                emailNode = node
                email = try reader.mapping(
                    node, "handlers.email",
                    allowed: ["host", "port", "security", "username", "password", "ca_file", "from", "from_name", "app_name", "templates"])
            }
            if let node = handlers["files"] { files = try Self.files(node, reader) }
            if let node = handlers["cleanup"] { cleanup = try Self.cleanup(node, reader) }
            if let node = handlers["notifications"] { notifications = try Self.notifications(node, reader) }
        }
        self.email = try Self.email(email, node: emailNode, reader, environment)
        if let roots = environment["JOBS_FILE_ROOTS"], !roots.isEmpty {
            var files = self.files ?? FileProcessingHandler.Configuration(roots: [])
            files.roots = roots.split(separator: ":").map(String.init)
            self.files = files
        }
        if let secret = environment["JOBS_WEBHOOK_SECRET"], !secret.isEmpty {
            var notifications = self.notifications ?? WebhookConfiguration()
            notifications.secret = Array(secret.utf8)
            self.notifications = notifications
        }
    }

    private static func email(
        _ section: [String: Node], node: Node?, _ reader: YAMLReader, _ environment: [String: String]
    ) throws(ConfigurationError) -> BuiltInHandlers.EmailSettings? {
        func text(_ key: String, _ variable: String) throws(ConfigurationError) -> String? {
            if let value = environment[variable], !value.isEmpty { return value }
            return try section[key].map { node throws(ConfigurationError) in try reader.string(node, "handlers.email.\(key)") }
        }
        guard let host = try text("host", "JOBS_SMTP_HOST") else {
            if node != nil { throw ConfigurationError("handlers.email needs host (or JOBS_SMTP_HOST)") }
            return nil
        }
        var smtp = SMTPConfiguration(host: host)
        if let port = try text("port", "JOBS_SMTP_PORT") {
            guard let number = Int(port), (1...65535).contains(number) else { throw ConfigurationError("handlers.email.port must be from 1 to 65535, not \(port)") }
            smtp.port = number
        }
        if let security = try text("security", "JOBS_SMTP_SECURITY") {
            switch security {
            case "none": smtp.security = .none
            case "starttls": smtp.security = .startTLS
            case "starttls_if_offered": smtp.security = .startTLSIfOffered
            default: throw ConfigurationError("handlers.email.security must be none, starttls or starttls_if_offered, not \(security.debugDescription)")
            }
        }
        smtp.username = try text("username", "JOBS_SMTP_USERNAME")
        smtp.password = try text("password", "JOBS_SMTP_PASSWORD")
        if let file = try text("ca_file", "JOBS_SMTP_CA_FILE") { smtp.trust = .certificates(pemFile: file) }
        guard let fromText = try text("from", "JOBS_EMAIL_FROM") else { throw ConfigurationError("handlers.email needs from (or JOBS_EMAIL_FROM)") }
        let fromName = try text("from_name", "JOBS_EMAIL_FROM_NAME")
        let from: EmailAddress
        do {
            from = try EmailAddress(fromText, name: fromName)
        } catch {
            throw ConfigurationError("handlers.email.from: \(error.message)")
        }
        return BuiltInHandlers.EmailSettings(
            smtp: smtp, from: from, appName: try text("app_name", "JOBS_EMAIL_APP_NAME") ?? "BackgroundJobs",
            templatesDirectory: try text("templates", "JOBS_EMAIL_TEMPLATES"))
    }

    private static func files(_ node: Node, _ reader: YAMLReader) throws(ConfigurationError) -> FileProcessingHandler.Configuration {
        let section = try reader.mapping(node, "handlers.files", allowed: ["roots", "max_bytes", "max_dimension"])
        guard let roots = section["roots"] else { throw reader.fail(node, "handlers.files", "needs roots: the folders files may be read from and written to") }
        var configuration = FileProcessingHandler.Configuration(roots: try reader.strings(roots, "handlers.files.roots"))
        if let value = section["max_bytes"] { configuration.maximumBytes = try reader.int(value, "handlers.files.max_bytes", range: 1...(1 << 40)) }
        if let value = section["max_dimension"] {
            configuration.maximumDimension = try reader.int(value, "handlers.files.max_dimension", range: 1...100_000)
        }
        return configuration
    }

    private static func cleanup(_ node: Node, _ reader: YAMLReader) throws(ConfigurationError) -> CleanupConfiguration {
        let section = try reader.mapping(
            node, "handlers.cleanup",
            allowed: ["temp_roots", "temp_max_age", "log_roots", "log_rotate_bytes", "log_compress_after", "log_retention"])
        var configuration = CleanupConfiguration()
        if let value = section["temp_roots"] { configuration.temporaryRoots = try reader.strings(value, "handlers.cleanup.temp_roots") }
        if let value = section["temp_max_age"] { configuration.temporaryMaximumAge = try reader.duration(value, "handlers.cleanup.temp_max_age") }
        if let value = section["log_roots"] { configuration.logRoots = try reader.strings(value, "handlers.cleanup.log_roots") }
        if let value = section["log_rotate_bytes"] {
            configuration.logRotationSize = try reader.int(value, "handlers.cleanup.log_rotate_bytes", range: 1...(1 << 40))
        }
        if let value = section["log_compress_after"] { configuration.logCompressionAge = try reader.duration(value, "handlers.cleanup.log_compress_after") }
        if let value = section["log_retention"] { configuration.logRetention = try reader.duration(value, "handlers.cleanup.log_retention") }
        return configuration
    }

    private static func notifications(_ node: Node, _ reader: YAMLReader) throws(ConfigurationError) -> WebhookConfiguration {
        let section = try reader.mapping(node, "handlers.notifications", allowed: ["secret", "timeout", "allowed_hosts"])
        var configuration = WebhookConfiguration()
        if let value = section["secret"] {
            let secret = try reader.string(value, "handlers.notifications.secret")
            configuration.secret = secret.isEmpty ? nil : Array(secret.utf8)
        }
        if let value = section["timeout"] { configuration.timeout = try reader.duration(value, "handlers.notifications.timeout") }
        if let value = section["allowed_hosts"] {
            configuration.allowedHosts = Set(try reader.strings(value, "handlers.notifications.allowed_hosts").map { $0.lowercased() })
        }
        return configuration
    }
}

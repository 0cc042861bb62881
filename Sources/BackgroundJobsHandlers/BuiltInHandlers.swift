public import AsyncHTTPClient
public import BackgroundJobsCleanup
public import BackgroundJobsCore
public import BackgroundJobsEmail
public import BackgroundJobsFiles
public import BackgroundJobsNotifications
public import Logging
public import ServiceLifecycle

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The built-in job types, built from one configuration: `email`, `file_processing`, `cleanup` and
/// `notification`. A family without its configuration is left out (its jobs fail as having no handler).
///
/// It is a `Service`: it owns the SMTP sessions and the HTTP client and closes them when the group shuts
/// down. Put it before the worker pool in the group, so that it stops after the pool has finished.
public final class BuiltInHandlers: Service {
    /// What to build.
    public struct Configuration: Sendable {
        /// The mail server and sender; `nil` leaves the `email` job type out.
        public var email: EmailSettings?
        /// The file roots and limits; `nil` leaves the `file_processing` job type out.
        public var files: FileProcessingHandler.Configuration?
        /// Always built: job data needs only the queue, the rest only what is configured.
        public var cleanup: CleanupConfiguration
        /// Webhook delivery; `nil` leaves the `notification` job type out.
        public var notifications: WebhookConfiguration?

        public init(
            email: EmailSettings? = nil, files: FileProcessingHandler.Configuration? = nil, cleanup: CleanupConfiguration = CleanupConfiguration(),
            notifications: WebhookConfiguration? = nil
        ) {
            self.email = email
            self.files = files
            self.cleanup = cleanup
            self.notifications = notifications
        }
    }

    /// The email family's settings.
    public struct EmailSettings: Sendable {
        public var smtp: SMTPConfiguration
        public var from: EmailAddress
        public var appName: String
        /// A folder of templates over the built-in ones.
        public var templatesDirectory: String?

        public init(smtp: SMTPConfiguration, from: EmailAddress, appName: String = "BackgroundJobs", templatesDirectory: String? = nil) {
            self.smtp = smtp
            self.from = from
            self.appName = appName
            self.templatesDirectory = templatesDirectory
        }
    }

    private let mailer: SMTPMailer?
    private let httpClient: HTTPClient?
    private let email: EmailHandler?
    private let files: FileProcessingHandler?
    private let cleanup: CleanupHandler
    private let webhooks: WebhookSender?
    private let logger: Logger

    /// Builds the handlers; a bad template folder or file root is an error naming it. Configured file and
    /// cleanup folders that do not exist yet are created (and logged), as a service creates its data folders.
    public init(configuration: Configuration, queue: any JobQueue, cleanupStore: (any CleanupStore)? = nil, logger: Logger) throws {
        self.logger = logger
        let folders = (configuration.files?.roots ?? []) + configuration.cleanup.temporaryRoots + configuration.cleanup.logRoots
        for folder in folders where folder.hasPrefix("/") && !FileManager.default.fileExists(atPath: folder) {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            logger.info("created a folder the handlers are configured to use", metadata: ["folder": "\(folder)"])
        }
        if let settings = configuration.email {
            let templates = try settings.templatesDirectory.map { directory in try EmailTemplates(directory: directory) } ?? EmailTemplates()
            let mailer = SMTPMailer(configuration: settings.smtp, logger: logger)
            self.mailer = mailer
            self.email = EmailHandler(mailer: mailer, configuration: .init(from: settings.from, appName: settings.appName, templates: templates))
        } else {
            (self.mailer, self.email) = (nil, nil)
        }
        self.files = try configuration.files.map { try FileProcessingHandler(configuration: $0) }
        self.cleanup = CleanupHandler(configuration: configuration.cleanup, store: cleanupStore, queue: queue)
        if let webhook = configuration.notifications {
            let client = WebhookSender.makeHTTPClient()
            self.httpClient = client
            self.webhooks = WebhookSender(httpClient: client, configuration: webhook)
        } else {
            (self.httpClient, self.webhooks) = (nil, nil)
        }
    }

    /// The job types these handlers serve.
    public var jobNames: [String] {
        (email == nil ? [] : ["email"]) + (files == nil ? [] : ["file_processing"]) + ["cleanup"] + (webhooks == nil ? [] : ["notification"])
    }

    /// Registers every built handler.
    public func register(into registry: inout JobRegistry) {
        email?.register(into: &registry)
        files?.register(into: &registry)
        cleanup.register(into: &registry)
        webhooks?.register(into: &registry)
    }

    /// Waits for the shutdown, then closes the SMTP sessions and the HTTP client.
    public func run() async throws {
        try? await gracefulShutdown()
        await mailer?.close()
        do {
            try await httpClient?.shutdown()
        } catch {
            logger.debug("the webhook HTTP client did not shut down cleanly", metadata: ["error": "\(error)"])
        }
    }
}

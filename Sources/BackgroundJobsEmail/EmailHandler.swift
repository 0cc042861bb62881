public import BackgroundJobsCore
public import BackgroundJobsDomain
import Foundation

/// Runs `email` jobs: renders the message from its template and sends it through an ``SMTPMailer``.
///
/// Delivery is tracked per recipient, across attempts: a recipient reached is never sent the message
/// again, a 5xx refusal is recorded and not retried, and a 4xx refusal (or a broken connection) fails
/// the attempt so that it is retried with backoff, for the recipients not reached yet only. What an
/// attempt got done is stored in the job's payload (``JobContext/updatePayload(_:)``) before it fails.
/// The Message-ID is the job's id, the same on every attempt, so a receiving server can drop a
/// duplicate if a worker died after the server accepted the message but before it was recorded.
public struct EmailHandler: Sendable {
    public struct Configuration: Sendable {
        /// Who the messages are from.
        public var from: EmailAddress
        /// The name the built-in templates use (`{{app_name}}`).
        public var appName: String
        public var templates: EmailTemplates
        /// Campaign messages sent at once (each on a session of its own); by default 4.
        public var campaignConcurrency: Int
        /// How often (in recipients) a campaign stores its progress, so that a worker that dies does not
        /// send to more than this many recipients again; by default 25.
        public var checkpointInterval: Int

        public init(from: EmailAddress, appName: String = "BackgroundJobs", templates: EmailTemplates = EmailTemplates(),
                    campaignConcurrency: Int = 4, checkpointInterval: Int = 25) {
            self.from = from
            self.appName = appName
            self.templates = templates
            self.campaignConcurrency = max(1, campaignConcurrency)
            self.checkpointInterval = max(1, checkpointInterval)
        }
    }

    let mailer: SMTPMailer
    let configuration: Configuration

    public init(mailer: SMTPMailer, configuration: Configuration) {
        self.mailer = mailer
        self.configuration = configuration
    }

    /// Registers the `email` job type.
    public func register(into registry: inout JobRegistry, retry: RetryPolicy? = nil) {
        let handler = self
        registry.register(.email, retry: retry) { request, context in try await handler.run(request, context: context) }
    }

    /// Sends what `request` asks for; see the type's documentation.
    public func run(_ request: EmailRequest, context: JobContext) async throws -> EmailReport {
        var request = request
        let messageID = "\(context.job.id.rawValue)@\(mailer.configuration.helloName)"
        if request.emailType == .campaign {
            return try await campaign(&request, context: context)
        }
        guard !request.to.isEmpty else { throw NonRetryableError("an \(request.emailType.rawValue) email needs \"to\"") }
        let message = try message(for: request, recipient: nil)
        let done = Set(request.delivered.map { $0.lowercased() } + request.refused.map { $0.email.lowercased() })
        let envelope = message.recipients.filter { !done.contains($0.address.lowercased()) }
        var transient: [(EmailAddress, EmailError)] = []
        if !envelope.isEmpty {
            do {
                let delivery = try await mailer.send(message, to: envelope, messageID: messageID)
                request.delivered += delivery.accepted.map(\.address)
                for (recipient, error) in delivery.refused {
                    if error.isTransient { transient.append((recipient, error)) } else { request.refused.append(RefusedRecipient(email: recipient.address, reason: error.message)) }
                }
            } catch where error.isTransient {
                throw EmailDeliveryError(description: error.message)
            } catch {
                throw NonRetryableError(error.message)
            }
        }
        return try await finish(request, transient: transient, context: context, changed: !envelope.isEmpty)
    }

    private func campaign(_ request: inout EmailRequest, context: JobContext) async throws -> EmailReport {
        guard !request.recipients.isEmpty else { throw NonRetryableError("a campaign needs \"recipients\"") }
        let done = Set(request.delivered.map { $0.lowercased() } + request.refused.map { $0.email.lowercased() })
        let pending = request.recipients.filter { !done.contains($0.address.address.lowercased()) }
        // Messages are built before anything is sent: a template error fails the campaign at once.
        let messages = try pending.map { recipient in (recipient, try message(for: request, recipient: recipient)) }
        var transient: [(EmailAddress, EmailError)] = []
        var sinceCheckpoint = 0
        let total = request.recipients.count
        let base = "\(context.job.id.rawValue).%d@\(mailer.configuration.helloName)"
        try await withThrowingTaskGroup(of: (EmailAddress, Result<Void, EmailError>).self) { group in
            var next = 0
            func startNext() {
                guard next < messages.count else { return }
                let (recipient, message) = messages[next]
                let index = request.recipients.firstIndex(of: recipient) ?? next
                next += 1
                let mailer = self.mailer
                group.addTask {
                    do throws(EmailError) {
                        let delivery = try await mailer.send(message, to: [recipient.address], messageID: String(format: base, index))
                        if let refusal = delivery.refused.first { return (recipient.address, .failure(refusal.1)) }
                        return (recipient.address, .success(()))
                    } catch {
                        return (recipient.address, .failure(error))
                    }
                }
            }
            for _ in 0..<configuration.campaignConcurrency { startNext() }
            while let (address, outcome) = try await group.next() {
                switch outcome {
                case .success: request.delivered.append(address.address)
                case .failure(let error) where error.isTransient: transient.append((address, error))
                case .failure(let error): request.refused.append(RefusedRecipient(email: address.address, reason: error.message))
                }
                sinceCheckpoint += 1
                if sinceCheckpoint >= configuration.checkpointInterval {
                    sinceCheckpoint = 0
                    try await context.updatePayload(request)
                    try await context.reportProgress((request.delivered.count + request.refused.count) * 100 / total)
                }
                if Task.isCancelled { break }
                startNext()
            }
        }
        try Task.checkCancellation()
        return try await finish(request, transient: transient, context: context, changed: !messages.isEmpty)
    }

    /// Stores progress and fails retryably while recipients wait to be reached; else the report.
    private func finish(_ request: EmailRequest, transient: [(EmailAddress, EmailError)], context: JobContext, changed: Bool) async throws -> EmailReport {
        if !transient.isEmpty {
            if changed { try await context.updatePayload(request) }
            let list = transient.prefix(5).map { "\($0.0.address) (\($0.1.message))" }.joined(separator: "; ")
            throw EmailDeliveryError(description: "\(transient.count) recipient(s) not reached yet: \(list)")
        }
        if request.delivered.isEmpty && !request.refused.isEmpty {
            let list = request.refused.prefix(5).map { "\($0.email) (\($0.reason))" }.joined(separator: "; ")
            throw NonRetryableError("every recipient was refused: \(list)")
        }
        return EmailReport(delivered: request.delivered, refused: request.refused)
    }

    /// The message of `request` (for one campaign recipient, when given).
    func message(for request: EmailRequest, recipient: CampaignRecipient?) throws -> EmailMessage {
        var data = request.data
        data["app_name"] = data["app_name"] ?? .string(configuration.appName)
        if let username = request.username { data["username"] = .string(username) }
        if let recipient {
            data["email"] = .string(recipient.address.address)
            if let name = recipient.address.name { data["name"] = .string(name) }
            data.merge(recipient.data) { _, own in own }
        }
        let templateName: String
        switch request.emailType {
        case .welcome: templateName = "welcome"
        case .passwordReset:
            guard case .string(let url)? = data["reset_url"], !url.isEmpty else { throw NonRetryableError("a password_reset email needs data.reset_url") }
            templateName = "password_reset"
        case .notification:
            guard case .string(let text)? = data["message"], !text.isEmpty else { throw NonRetryableError("a notification email needs data.message") }
            templateName = "notification"
        case .campaign:
            templateName = request.template ?? "campaign"
            if templateName == "campaign" {
                guard case .string? = data["subject"] ?? request.subject.map(JSONValue.string), case .string? = data["text"] else {
                    throw NonRetryableError("a campaign with the built-in template needs data.subject and data.text")
                }
            }
        case .template:
            guard let name = request.template else { throw NonRetryableError("an email of email_type template needs \"template\"") }
            templateName = name
        }
        let plain = data.mapValues { $0.plain ?? "" }
        let rendered: (subject: String, text: String, html: String?)
        do {
            rendered = try configuration.templates.render(templateName, data: plain)
        } catch {
            throw NonRetryableError(error.message)
        }
        var html = rendered.html
        if templateName == "campaign" && data["html"] == nil { html = nil }
        return EmailMessage(
            from: configuration.from, to: recipient.map { [$0.address] } ?? request.to, replyTo: request.replyTo,
            subject: request.subject ?? rendered.subject, text: rendered.text, html: html)
    }
}

/// A delivery that failed in a way a retry may fix.
struct EmailDeliveryError: Error, CustomStringConvertible {
    let description: String
}

public import BackgroundJobsDomain

/// A job name tied to its payload type, so submitting and handling a job agree on what it carries.
///
/// ```swift
/// let welcomeEmail = JobDefinition<WelcomeEmail>("welcome_email")
/// try await jobs.submit(welcomeEmail, WelcomeEmail(to: "ada@example.com"))
/// registry.register(welcomeEmail) { email, context in try await mailer.send(email) }
/// ```
public struct JobDefinition<Payload: Codable & Sendable>: Sendable, Hashable {
    /// The job name stored with each job.
    public let name: JobName

    /// A definition from a validated name.
    public init(_ name: JobName) { self.name = name }
}

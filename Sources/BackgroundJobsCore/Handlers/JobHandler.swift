public import BackgroundJobsDomain

/// A job type's handler as a type of its own, for handlers with dependencies (a mailer, a file store).
///
/// ```swift
/// struct WelcomeEmailHandler: JobHandler {
///     static let definition = JobDefinition<WelcomeEmail>("welcome_email")
///     let mailer: Mailer
///     func handle(_ email: WelcomeEmail, context: JobContext) async throws { try await mailer.send(email) }
/// }
/// registry.register(WelcomeEmailHandler(mailer: mailer))
/// ```
public protocol JobHandler: Sendable {
    /// What the handler's jobs carry.
    associatedtype Payload: Codable & Sendable
    /// The job name and payload type the handler serves.
    static var definition: JobDefinition<Payload> { get }
    /// How failed attempts are retried; `nil` for the pool's default.
    var retry: RetryPolicy? { get }
    /// Runs one attempt. Throwing fails the attempt (``NonRetryableError`` fails the job for good); the
    /// handler should end soon after its task is cancelled, which a timeout or a shutdown does.
    func handle(_ payload: Payload, context: JobContext) async throws
}

extension JobHandler {
    public var retry: RetryPolicy? { nil }
}

extension JobRegistry {
    /// Registers a handler type under its definition's job name.
    public mutating func register<Handler: JobHandler>(_ handler: Handler) {
        register(Handler.definition, retry: handler.retry) { payload, context in
            try await handler.handle(payload, context: context)
        }
    }
}

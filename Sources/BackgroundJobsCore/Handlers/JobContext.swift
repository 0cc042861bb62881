public import BackgroundJobsDomain
public import Logging

/// What a handler knows about the job it runs.
public struct JobContext: Sendable {
    /// The job as fetched: id, attempt number, queue, times.
    public let job: Job
    /// A logger carrying the job's id, name, queue and attempt as metadata.
    public let logger: Logger
    private let progressReporter: (@Sendable (Int) async throws -> Void)?

    /// A context for `job`; `progress` records what ``reportProgress(_:)`` reports.
    public init(job: Job, logger: Logger, progress: (@Sendable (Int) async throws -> Void)? = nil) {
        self.job = job
        self.progressReporter = progress
        var logger = logger
        logger[metadataKey: JobLogMetadata.id] = "\(job.id)"
        logger[metadataKey: JobLogMetadata.name] = "\(job.name)"
        logger[metadataKey: JobLogMetadata.queue] = "\(job.queue)"
        logger[metadataKey: JobLogMetadata.attempt] = "\(job.attempts)"
        self.logger = logger
    }

    /// Shows how far the job has got, in percent (0–100), on the job and in its events.
    public func reportProgress(_ percent: Int) async throws {
        try await progressReporter?(min(100, max(0, percent)))
    }
}

/// The metadata keys of per-job log lines, in one place.
public enum JobLogMetadata {
    public static let id = "job.id"
    public static let name = "job.name"
    public static let queue = "job.queue"
    public static let attempt = "job.attempt"
}

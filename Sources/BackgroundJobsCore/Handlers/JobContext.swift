public import BackgroundJobsDomain
public import Logging

/// What a handler knows about the job it runs.
public struct JobContext: Sendable {
    /// The job as fetched: id, attempt number, queue, times.
    public let job: Job
    private let baseLogger: Logger
    private let progressReporter: (@Sendable (Int) async throws -> Void)?

    /// A context for `job`; `progress` records what ``reportProgress(_:)`` reports.
    public init(job: Job, logger: Logger, progress: (@Sendable (Int) async throws -> Void)? = nil) {
        self.job = job
        self.baseLogger = logger
        self.progressReporter = progress
    }

    /// A logger carrying the job's id, name, queue and attempt as metadata.
    ///
    /// It is made when asked for, not for every job: setting metadata is costly with some log handlers
    /// (swift-log's `StreamLogHandler` renders all of it again on each change), and most jobs never log.
    /// Keep it in a local when logging several lines.
    public var logger: Logger {
        var logger = baseLogger
        var metadata = logger.handler.metadata
        metadata[JobLogMetadata.id] = "\(job.id)"
        metadata[JobLogMetadata.name] = "\(job.name)"
        metadata[JobLogMetadata.queue] = "\(job.queue)"
        metadata[JobLogMetadata.attempt] = "\(job.attempts)"
        logger.handler.metadata = metadata
        return logger
    }

    /// Whether the job's logger would write a line at `level`, so callers can skip making it.
    func logs(at level: Logger.Level) -> Bool { baseLogger.logLevel <= level }

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

public import BackgroundJobsDomain
public import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a handler knows about the job it runs.
public struct JobContext: Sendable {
    /// The job as fetched: id, attempt number, queue, times.
    public let job: Job
    private let baseLogger: Logger
    private let progressReporter: (@Sendable (Int) async throws -> Void)?
    private let payloadWriter: (@Sendable ([UInt8]) async throws -> Bool)?

    /// A context for `job`; `progress` records what ``reportProgress(_:)`` reports, `payloadWriter`
    /// stores what ``updatePayload(_:)`` hands it (and tells whether the job was still held).
    public init(
        job: Job, logger: Logger, progress: (@Sendable (Int) async throws -> Void)? = nil,
        payloadWriter: (@Sendable ([UInt8]) async throws -> Bool)? = nil
    ) {
        self.job = job
        self.baseLogger = logger
        self.progressReporter = progress
        self.payloadWriter = payloadWriter
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
    public func logs(at level: Logger.Level) -> Bool { baseLogger.logLevel <= level }

    /// Shows how far the job has got, in percent (0–100), on the job and in its events.
    public func reportProgress(_ percent: Int) async throws {
        try await progressReporter?(min(100, max(0, percent)))
    }

    /// Replaces the job's payload, so that its next attempt starts from it: a handler that did part of
    /// its work (some recipients of a campaign reached) stores what is left before it fails retryably.
    ///
    /// - Throws: ``JobError`` when the payload is over the size limit; ``NonRetryableError`` when the
    ///   worker no longer holds the job (it was taken over or cancelled), so the attempt should stop.
    public func updatePayload<Payload: Encodable>(_ payload: Payload) async throws {
        let bytes = Array(try JSONEncoder().encode(payload))
        try JobPayload.validate(bytes)
        guard let payloadWriter else { return }
        guard try await payloadWriter(bytes) else {
            throw NonRetryableError("the job is no longer held by this worker; its payload was not updated")
        }
    }
}

/// The metadata keys of per-job log lines, in one place.
public enum JobLogMetadata {
    public static let id = "job.id"
    public static let name = "job.name"
    public static let queue = "job.queue"
    public static let attempt = "job.attempt"
}

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// One job: what to run, where, and how far it has got.
public struct Job: Sendable, Hashable {
    /// The job's id, sortable by creation time.
    public var id: JobID
    /// The job type, which selects the handler.
    public var name: JobName
    /// The queue the job runs from.
    public var queue: QueueName
    /// How urgent the job is within its queue.
    public var priority: JobPriority
    /// The handler's input, as submitted (JSON for jobs submitted through the typed or HTTP API).
    public var payload: [UInt8]
    /// Where the job is in its life.
    public private(set) var status: JobStatus
    /// Attempts started so far.
    public var attempts: Int
    /// Retries allowed after the first attempt.
    public var maxRetries: Int
    /// How long one attempt may run; `nil` for no limit.
    public var timeout: Duration?
    /// The key that keeps a second copy of this job out while it is unfinished.
    public var uniqueKey: String?
    /// Times a worker died while holding the job.
    public var stalls: Int
    /// When the job was submitted.
    public var createdAt: Date
    /// When the job may run next, for scheduled jobs and retries.
    public var scheduledAt: Date?
    /// When the latest attempt started.
    public var startedAt: Date?
    /// When the job completed, died or was cancelled.
    public var finishedAt: Date?
    /// Why the latest attempt failed.
    public var lastError: String?
    /// What the handler returned, for completed jobs.
    public var result: [UInt8]?
    /// The progress in percent the handler last reported, if it reported any.
    public var progress: Int?

    /// A new job in `pending` or, with a run-at time, `scheduled` status.
    public init(
        id: JobID,
        name: JobName,
        payload: [UInt8],
        options: JobOptions,
        maxRetries: Int,
        createdAt: Date
    ) {
        self.id = id
        self.name = name
        self.queue = options.queue
        self.priority = options.priority
        self.payload = payload
        self.attempts = 0
        self.maxRetries = options.maxRetries ?? maxRetries
        self.timeout = options.timeout
        self.uniqueKey = options.uniqueKey
        self.stalls = 0
        self.createdAt = createdAt
        self.scheduledAt = options.runAt(now: createdAt)
        self.status = scheduledAt == nil ? .pending : .scheduled
    }

    /// A job as stored, with its status taken as it is.
    public init(
        id: JobID, name: JobName, queue: QueueName, priority: JobPriority, payload: [UInt8], status: JobStatus,
        attempts: Int, maxRetries: Int, timeout: Duration?, uniqueKey: String?, stalls: Int, createdAt: Date,
        scheduledAt: Date?, startedAt: Date?, finishedAt: Date?, lastError: String?, result: [UInt8]?
    ) {
        self.id = id
        self.name = name
        self.queue = queue
        self.priority = priority
        self.payload = payload
        self.status = status
        self.attempts = attempts
        self.maxRetries = maxRetries
        self.timeout = timeout
        self.uniqueKey = uniqueKey
        self.stalls = stalls
        self.createdAt = createdAt
        self.scheduledAt = scheduledAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.lastError = lastError
        self.result = result
    }

    /// Moves the job to `next`, if the state machine allows it.
    public mutating func transition(to next: JobStatus) throws(JobError) {
        status = try status.transition(to: next)
    }

    /// Whether a failure of the current attempt leaves retries.
    public var hasRetriesLeft: Bool { attempts <= maxRetries }
}

/// The rules a payload must meet.
public enum JobPayload {
    /// The default largest payload: 512 KiB.
    public static let defaultSizeLimit = 512 * 1024

    /// Checks the payload against `limit` bytes.
    public static func validate(_ payload: [UInt8], limit: Int = defaultSizeLimit) throws(JobError) {
        guard payload.count <= limit else {
            throw JobError(.payloadTooLarge, "the payload is \(payload.count) bytes, more than the limit of \(limit) bytes")
        }
    }
}

public import BackgroundJobsDomain
public import Foundation

/// A change of one job, as recorded in the queue's event log.
public struct JobEvent: Sendable, Hashable {
    /// What changed.
    public enum Change: Sendable, Hashable {
        /// The job's status changed; `from` is `nil` for a new job.
        case status(from: JobStatus?, to: JobStatus)
        /// The running job's handler reported progress, in percent.
        case progress(Int)
    }

    /// The event's position in the log: pass it to read the events after it.
    public var cursor: String
    /// The job.
    public var job: JobID
    /// What changed.
    public var change: Change
    /// When it changed.
    public var at: Date

    /// An event.
    public init(cursor: String, job: JobID, change: Change, at: Date) {
        self.cursor = cursor
        self.job = job
        self.change = change
        self.at = at
    }
}

/// A worker process as it last described itself with its heartbeat.
public struct WorkerInfo: Sendable, Hashable {
    /// The worker's id.
    public var id: WorkerID
    /// The host it runs on.
    public var host: String
    /// Its process id.
    public var pid: Int
    /// The queues it serves.
    public var queues: [QueueName]
    /// Jobs it runs at most at once.
    public var concurrency: Int
    /// Jobs it runs now.
    public var busy: Int
    /// Attempts it completed.
    public var processed: Int
    /// Attempts that failed in it.
    public var failed: Int
    /// When it started.
    public var startedAt: Date

    /// A description.
    public init(
        id: WorkerID, host: String, pid: Int, queues: [QueueName], concurrency: Int, busy: Int, processed: Int, failed: Int,
        startedAt: Date
    ) {
        self.id = id
        self.host = host
        self.pid = pid
        self.queues = queues
        self.concurrency = concurrency
        self.busy = busy
        self.processed = processed
        self.failed = failed
        self.startedAt = startedAt
    }
}

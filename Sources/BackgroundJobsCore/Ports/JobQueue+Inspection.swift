public import BackgroundJobsDomain

/// How many jobs a queue has in each state, read without walking its jobs.
public struct QueueCounts: Sendable, Hashable {
    /// The queue.
    public var queue: QueueName
    /// Ready jobs by priority.
    public var pending: [JobPriority: Int]
    /// Jobs waiting for their run-at time or delay.
    public var scheduled: Int
    /// Failed jobs waiting for their retry.
    public var retrying: Int
    /// Jobs a worker runs.
    public var processing: Int
    /// Completed jobs still kept.
    public var completed: Int
    /// Dead jobs still kept.
    public var dead: Int
    /// Cancelled jobs still kept.
    public var cancelled: Int
    /// Whether workers skip the queue.
    public var paused: Bool

    /// Counts.
    public init(
        queue: QueueName, pending: [JobPriority: Int], scheduled: Int, retrying: Int, processing: Int, completed: Int,
        dead: Int, cancelled: Int, paused: Bool
    ) {
        self.queue = queue
        self.pending = pending
        self.scheduled = scheduled
        self.retrying = retrying
        self.processing = processing
        self.completed = completed
        self.dead = dead
        self.cancelled = cancelled
        self.paused = paused
    }

    /// Ready jobs of every priority.
    public var totalPending: Int { pending.values.reduce(0, +) }
}

/// One page of a job listing, and where the next one starts.
public struct JobPage: Sendable, Hashable {
    /// The jobs of this page.
    public var jobs: [Job]
    /// Pass this to get the next page; `nil` on the last page.
    public var next: String?

    /// A page.
    public init(jobs: [Job], next: String?) {
        self.jobs = jobs
        self.next = next
    }
}

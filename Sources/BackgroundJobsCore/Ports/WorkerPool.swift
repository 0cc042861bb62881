public import BackgroundJobsDomain
public import ServiceLifecycle

/// A worker process's pool of job slots: a `Service` that fetches jobs, runs their handlers and records
/// how each attempt ended, until it is shut down.
public protocol WorkerPool: Service {
    /// The id this pool holds jobs and heartbeats under.
    var worker: WorkerID { get }
    /// What the pool is doing now.
    var snapshot: WorkerPoolSnapshot { get }
}

/// A moment's view of a worker pool, for health checks, metrics and the worker registry.
public struct WorkerPoolSnapshot: Sendable, Hashable {
    /// The queues the pool serves.
    public var queues: [QueueName]
    /// How many jobs it runs at most at once.
    public var concurrency: Int
    /// How many it runs now.
    public var busy: Int
    /// Attempts that completed since the pool started.
    public var processed: Int
    /// Attempts that failed (retried or dead) since the pool started.
    public var failed: Int

    /// A snapshot.
    public init(queues: [QueueName], concurrency: Int, busy: Int, processed: Int, failed: Int) {
        self.queues = queues
        self.concurrency = concurrency
        self.busy = busy
        self.processed = processed
        self.failed = failed
    }
}

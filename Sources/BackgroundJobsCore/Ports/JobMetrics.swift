public import BackgroundJobsDomain

/// Where a worker pool and the job service report what happens to jobs; an adapter turns it into
/// metrics (Prometheus in the demo server). Calls are made on hot paths: an adapter caches its handles.
public protocol JobMetrics: Sendable {
    /// A job was stored.
    func jobEnqueued(_ job: Job)
    /// An attempt of `job` started after it had been ready for `waited`.
    func jobStarted(_ job: Job, waited: Duration)
    /// An attempt ended after `duration`, leaving the job in `status`: completed, failed (it will be
    /// retried), dead, or pending (put back at shutdown).
    func jobFinished(_ job: Job, status: JobStatus, duration: Duration)
    /// A pool runs `busy` of its `concurrency` slots.
    func workersBusy(_ busy: Int, of concurrency: Int)
}

/// Metrics that go nowhere: the default when no adapter is configured.
public struct NoJobMetrics: JobMetrics {
    /// Metrics that record nothing.
    public init() {}
    public func jobEnqueued(_ job: Job) {}
    public func jobStarted(_ job: Job, waited: Duration) {}
    public func jobFinished(_ job: Job, status: JobStatus, duration: Duration) {}
    public func workersBusy(_ busy: Int, of concurrency: Int) {}
}

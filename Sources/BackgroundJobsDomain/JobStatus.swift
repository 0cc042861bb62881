/// Where a job is in its life; changes are checked against the state machine below.
///
/// ```
/// scheduled ──► pending ──► processing ──► completed
///     │            │            ├────────► failed ──► pending (retry when due)
///     │            │            ├────────► dead ────► pending (re-enqueued by hand)
///     │            │            └────────► pending (stalled or interrupted: run again)
///     └────────────┴──► cancelled ◄── processing, failed
/// ```
public enum JobStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Ready to run, in its queue's list.
    case pending
    /// Waiting for its run-at time.
    case scheduled
    /// Held by a worker.
    case processing
    /// Finished successfully.
    case completed
    /// Failed and will be retried after its backoff delay.
    case failed
    /// Failed for good: retries exhausted, not retryable, or stalled too often.
    case dead
    /// Cancelled before it finished; it is never run again.
    case cancelled

    /// The statuses this one may change to.
    public var allowedSuccessors: Set<JobStatus> {
        switch self {
        case .pending: [.processing, .cancelled]
        case .scheduled: [.pending, .cancelled]
        case .processing: [.completed, .failed, .dead, .cancelled, .pending]
        case .failed: [.pending, .cancelled]
        case .dead: [.pending]
        case .completed, .cancelled: []
        }
    }

    /// Whether the job has reached an end: it will not run again unless re-enqueued by hand.
    public var isFinished: Bool { self == .completed || self == .dead || self == .cancelled }

    /// Whether the state machine allows a change to `next`.
    public func canTransition(to next: JobStatus) -> Bool { allowedSuccessors.contains(next) }

    /// Returns `next` when the change is allowed, and throws an ``JobError/Code/illegalTransition`` otherwise.
    public func transition(to next: JobStatus) throws(JobError) -> JobStatus {
        guard canTransition(to: next) else {
            throw JobError(.illegalTransition, "a \(rawValue) job cannot become \(next.rawValue)")
        }
        return next
    }
}

public import BackgroundJobsDomain

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Where jobs wait and who holds them: the storage port of the job system.
///
/// Every method is one atomic step in the store, so a crash between two calls never loses or duplicates
/// a job. Adapters: `RedisJobQueue` (production) and `InMemoryJobQueue` (tests).
public protocol JobQueue: Sendable {
    /// Stores a new job: in its ready list, or waiting for its run-at time.
    ///
    /// - Returns: ``EnqueueOutcome/enqueued`` or, when a job with the same unique key is unfinished,
    ///   ``EnqueueOutcome/duplicate(of:)`` and nothing is written.
    /// - Throws: ``JobQueueError`` with code ``JobQueueError/Code/queueFull`` when the queue holds its
    ///   `max_jobs`; nothing is written then either.
    func enqueue(_ job: Job, limits: QueueLimits) async throws -> EnqueueOutcome

    /// Takes up to `limit` ready jobs of `queues` for `worker`, most urgent first within a queue and the
    /// queues in the order given, and marks them processing. Returns at once, possibly with none.
    func fetch(for worker: WorkerID, from queues: [QueueName], limit: Int, now: Date) async throws -> [Job]

    /// Marks a job held by `worker` completed, keeping `result` for the retention time, and frees its
    /// unique key and its place under the queue's `max_jobs`.
    ///
    /// - Returns: `false` when the worker no longer holds the job (it was taken over after a stall or
    ///   cancelled): the worker must drop it.
    func complete(_ job: Job, by worker: WorkerID, result: [UInt8]?, now: Date) async throws -> Bool

    /// Records a failed attempt of a job held by `worker`: with `retryAt` the job waits until then and runs
    /// again; without, it is dead and keeps `error` for the dead retention time.
    ///
    /// - Returns: what became of the job, or ``FailOutcome/notHeld`` when the worker no longer holds it.
    func fail(_ job: Job, by worker: WorkerID, error: String, retryAt: Date?, now: Date) async throws -> FailOutcome

    /// Puts jobs held by `worker` back at the front of their ready lists, as if never started: for jobs
    /// interrupted by a shutdown. Returns how many were put back.
    func requeue(_ jobs: [Job], by worker: WorkerID) async throws -> Int

    /// Moves up to `limit` jobs whose time has come (delays, run-at times, retries) to their ready lists.
    func promoteDue(now: Date, limit: Int) async throws -> PromotionResult

    /// The stored job, or `nil` when there is none (never submitted, or expired after its retention time).
    func job(_ id: JobID) async throws -> Job?
}

/// What became of a failed attempt.
public enum FailOutcome: Sendable, Hashable {
    /// The job waits in the delayed set for its retry.
    case willRetry
    /// The job is dead.
    case dead
    /// The worker no longer holds the job; nothing was changed.
    case notHeld
}

/// What a promotion pass did.
public struct PromotionResult: Sendable, Hashable {
    /// Jobs moved to their ready lists.
    public var promoted: Int
    /// When the next waiting job is due, if any waits.
    public var nextDue: Date?

    /// A result.
    public init(promoted: Int, nextDue: Date?) {
        self.promoted = promoted
        self.nextDue = nextDue
    }
}

/// The answer to an enqueue.
public enum EnqueueOutcome: Sendable, Hashable {
    /// The job was stored.
    case enqueued
    /// An unfinished job with the same unique key exists; the new one was not stored.
    case duplicate(of: JobID)
}

/// Limits a queue applies at enqueue, from its ``QueueDefinition``.
public struct QueueLimits: Sendable, Hashable {
    /// The most unfinished jobs the queue may hold; `nil` for no limit.
    public var maxJobs: Int?
    /// How long a unique key holds when the job sets no duration of its own.
    public var uniqueFor: Duration

    /// Limits; by default none, and unique keys held for 24 hours.
    public init(maxJobs: Int? = nil, uniqueFor: Duration = .seconds(24 * 3600)) {
        self.maxJobs = maxJobs
        self.uniqueFor = uniqueFor
    }
}

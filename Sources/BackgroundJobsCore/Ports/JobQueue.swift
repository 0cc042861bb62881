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

    /// Stores several new jobs, each as ``enqueue(_:limits:)`` would, and answers for each in order.
    ///
    /// Each job is stored atomically on its own; a failure (a full queue) is that job's answer and does
    /// not stop the others.
    func enqueue(_ jobs: [(job: Job, limits: QueueLimits)]) async throws -> [Result<EnqueueOutcome, any Error>]

    /// Takes up to `limit` ready jobs for `worker` and marks them processing, after moving jobs whose
    /// time has come from the waiting set to their ready lists. Returns at once, possibly with no job.
    ///
    /// Queues are served in the order given, and within a queue the most urgent priority first. With a
    /// `starvationLimit`, a less urgent job that has been ready that long is served before more urgent
    /// ones, so a steady stream of urgent jobs cannot starve it.
    func fetch(
        for worker: WorkerID, from queues: [QueueName], limit: Int, starvationLimit: Duration?, now: Date
    ) async throws -> FetchResult

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

    /// Records how attempts ended, then fetches up to `limit` jobs, as one step where the store allows;
    /// see the default implementation.
    func settle(
        _ settlements: [(job: Job, settlement: Settlement)], by worker: WorkerID, fetching limit: Int, from queues: [QueueName],
        starvationLimit: Duration?, now: Date
    ) async throws -> (outcomes: [SettlementOutcome], fetched: FetchResult)

    /// Puts jobs held by `worker` back at the front of their ready lists, as if never started: for jobs
    /// interrupted by a shutdown. Returns how many were put back.
    func requeue(_ jobs: [Job], by worker: WorkerID) async throws -> Int

    /// Moves up to `limit` jobs whose time has come (delays, run-at times, retries) to their ready lists.
    func promoteDue(now: Date, limit: Int) async throws -> PromotionResult

    /// The stored job, or `nil` when there is none (never submitted, or expired after its retention time).
    func job(_ id: JobID) async throws -> Job?

    /// Cancels a job that waits (pending, scheduled, or failed and waiting for its retry): it never runs,
    /// and keeps status `cancelled` for the completed retention time. For a running job, its worker is
    /// told to stop it (see ``waitForCancellations(of:timeout:)``); it ends cancelled, not retried. A
    /// finished job is left as it is and its status is returned.
    func cancel(_ id: JobID, now: Date) async throws -> CancelOutcome

    /// Waits up to `timeout` for cancels of jobs `worker` runs, and returns their ids (possibly none).
    func waitForCancellations(of worker: WorkerID, timeout: Duration) async throws -> [JobID]

    /// Ends a job held by `worker` as cancelled, after its handler was stopped on request.
    ///
    /// - Returns: `false` when the worker no longer holds the job.
    func markCancelled(_ job: Job, by worker: WorkerID, now: Date) async throws -> Bool

    /// Puts a dead job back in its ready list with its attempts reset; it keeps its last error until it
    /// runs again. A job that is not dead is left as it is and its status is returned.
    func retryDead(_ id: JobID) async throws -> RetryDeadOutcome

    /// Returns when work may have become ready in one of `queues` (a job was stored, retried or became
    /// due), or after `timeout`. Idle workers wait here instead of polling; a return does not promise
    /// a job, so the caller fetches and waits again.
    func waitForWork(in queues: [QueueName], timeout: Duration) async throws

    /// Waits as ``waitForWork(in:timeout:)`` does, then fetches as ``fetch(for:from:limit:starvationLimit:now:)``
    /// does at the time the wait ends, in one round trip where the store allows; see the default
    /// implementation. The jobs it returns are held by `worker` like fetched ones.
    func waitAndFetch(
        for worker: WorkerID, from queues: [QueueName], limit: Int, starvationLimit: Duration?, timeout: Duration
    ) async throws -> FetchResult

    /// Ends the ``waitAndFetch(for:from:limit:starvationLimit:timeout:)`` of `worker` under way, early (its
    /// fetch still runs), so a pool that stops need not wait out the timeout. Without one under way it may
    /// end the next wait early, which is harmless: a wait never promises a job.
    func interruptWait(of worker: WorkerID) async throws

    /// Records the progress (0–100) a running job's handler reports; `false` when `worker` no longer holds it.
    func setProgress(_ job: Job, by worker: WorkerID, percent: Int) async throws -> Bool

    /// Replaces the payload of a running job held by `worker`, so that its next attempt (a retry, or a
    /// run after its worker died) starts from what this one got done; `false` when `worker` no longer holds it.
    func updatePayload(_ job: Job, by worker: WorkerID, payload: [UInt8]) async throws -> Bool

    /// Waits up to `timeout` for events after `cursor` (from now on, when `nil`), and returns those that
    /// came (possibly none) with the cursor to read on from.
    func events(after cursor: String?, timeout: Duration) async throws -> (events: [JobEvent], cursor: String)

    /// Deletes index entries of finished jobs past their retention, whose job data has expired; returns how
    /// many. Indexes are also trimmed as jobs finish, so this matters for queues that went quiet. With
    /// `dryRun`, deletes nothing and returns how many it would.
    func sweep(now: Date, dryRun: Bool) async throws -> Int

    // MARK: Queues

    /// Every queue that has had a job, in name order.
    func queues() async throws -> [QueueName]

    /// How many jobs `queue` has in each state; the cost does not grow with the number of jobs.
    func counts(of queue: QueueName) async throws -> QueueCounts

    /// Jobs of `queue` in `status`, `limit` at a time, in the order they will run (waiting jobs) or
    /// finished (the others). Pass a page's `next` as `cursor` for the following page: every job present
    /// when the listing started is returned once, even while new jobs arrive.
    ///
    /// - Throws: ``JobQueueError`` with code ``JobQueueError/Code/invalidCursor`` for a cursor this
    ///   listing did not make.
    func list(_ queue: QueueName, status: JobStatus, cursor: String?, limit: Int) async throws -> JobPage

    /// Stops or restarts fetching from `queue`; submissions are still accepted while it is paused.
    func setPaused(_ queue: QueueName, _ paused: Bool) async throws

    /// Deletes every job of `queue` that waits (pending, scheduled, retrying); running and finished jobs
    /// are left. Returns how many were deleted.
    func purge(_ queue: QueueName) async throws -> Int

    /// Puts every dead job of `queue` back in its ready list; returns how many.
    func retryAllDead(in queue: QueueName) async throws -> Int

    // MARK: Worker liveness

    /// Registers `worker` as alive for `ttl`, with what it is doing; a worker calls it more often than `ttl`
    /// while it runs.
    func heartbeat(_ worker: WorkerInfo, ttl: Duration) async throws

    /// The workers whose heartbeat is alive, in id order.
    func workers() async throws -> [WorkerInfo]

    /// Removes `worker` from the registry at a clean stop, once it holds no job.
    func unregister(_ worker: WorkerID) async throws

    /// Gives the jobs of every worker whose heartbeat has expired back to their ready lists, counting a
    /// stall on each; a job that stalled more than `stallLimit` times is dead instead, so a job that kills
    /// its worker every time does not loop forever. Safe to run from many processes at once.
    ///
    /// A worker counts as dead only once its heartbeat has been missing for `grace`, from the first reap
    /// that found it missing: after an outage longer than the heartbeat TTL every heartbeat has expired,
    /// and a live worker needs a moment to beat again. A reap that waited out the outage (it was sent
    /// before) then only marks the workers it finds without a heartbeat.
    func reapDeadWorkers(now: Date, stallLimit: Int, grace: Duration) async throws -> ReapResult

    /// Puts back every job `worker` holds in the store but is not running, and returns how many.
    ///
    /// A fetch can take effect in the store while its answer is lost (a broken connection): the worker then
    /// holds jobs it never heard of, and its heartbeat keeps the reaper away. Only the worker itself can
    /// tell, so it calls this after such an error, while no fetch of its own is under way.
    func reconcile(_ worker: WorkerID, running: Set<JobID>) async throws -> Int

    // MARK: Where to run

    /// Executors on which tasks that mostly wait for this queue run best: those of its I/O threads, where
    /// its replies arrive. The worker pool spreads its slots over them, so a job's round trips to the
    /// queue resume it without a hand-off between threads. Empty (the default) for none.
    var taskExecutors: [any TaskExecutor] { get }
}

extension JobQueue {
    public var taskExecutors: [any TaskExecutor] { [] }

    /// Deletes index entries of finished jobs past their retention; see ``sweep(now:dryRun:)``.
    public func sweep(now: Date) async throws -> Int {
        try await sweep(now: now, dryRun: false)
    }

    /// Stores the jobs one after another; adapters that can do better override it.
    public func enqueue(_ jobs: [(job: Job, limits: QueueLimits)]) async throws -> [Result<EnqueueOutcome, any Error>] {
        var outcomes: [Result<EnqueueOutcome, any Error>] = []
        outcomes.reserveCapacity(jobs.count)
        for (job, limits) in jobs {
            do {
                outcomes.append(.success(try await enqueue(job, limits: limits)))
            } catch {
                outcomes.append(.failure(error))
            }
        }
        return outcomes
    }

    /// Takes over the jobs of workers whose heartbeat is missing, at once; see
    /// ``reapDeadWorkers(now:stallLimit:grace:)``.
    public func reapDeadWorkers(now: Date, stallLimit: Int) async throws -> ReapResult {
        try await reapDeadWorkers(now: now, stallLimit: stallLimit, grace: .zero)
    }

    /// Waits for work, then fetches: two steps.
    public func waitAndFetch(
        for worker: WorkerID, from queues: [QueueName], limit: Int, starvationLimit: Duration?, timeout: Duration
    ) async throws -> FetchResult {
        try await waitForWork(in: queues, timeout: timeout)
        return try await fetch(for: worker, from: queues, limit: limit, starvationLimit: starvationLimit, now: Date())
    }

    /// Fetches with strict priority order.
    public func fetch(for worker: WorkerID, from queues: [QueueName], limit: Int, now: Date) async throws -> FetchResult {
        try await fetch(for: worker, from: queues, limit: limit, starvationLimit: nil, now: now)
    }
}

/// What a fetch took.
public struct FetchResult: Sendable, Hashable {
    /// The jobs now held by the worker, marked processing.
    public var jobs: [Job]
    /// When the next waiting job is due, if any waits: an idle worker waits no longer than that.
    public var nextDue: Date?

    /// A result.
    public init(jobs: [Job], nextDue: Date?) {
        self.jobs = jobs
        self.nextDue = nextDue
    }
}

/// What a reaper pass did.
public struct ReapResult: Sendable, Hashable {
    /// Workers found dead and removed from the registry.
    public var workers: Int
    /// Their jobs put back in ready lists.
    public var requeued: Int
    /// Their jobs that had stalled too often and are dead now.
    public var dead: Int

    /// A result.
    public init(workers: Int, requeued: Int, dead: Int) {
        self.workers = workers
        self.requeued = requeued
        self.dead = dead
    }
}

/// The answer to a cancel.
public enum CancelOutcome: Sendable, Hashable {
    /// The job was cancelled and will not run.
    case cancelled
    /// The job runs; its worker has been told to stop it, and it will end cancelled.
    case cancelling
    /// No such job is stored.
    case notFound
    /// The job runs or has finished; nothing was changed.
    case notWaiting(JobStatus)
}

/// The answer to a retry of a dead job.
public enum RetryDeadOutcome: Sendable, Hashable {
    /// The job is back in its ready list.
    case requeued
    /// No such job is stored.
    case notFound
    /// The job is not dead; nothing was changed.
    case notDead(JobStatus)
}

/// What became of a failed attempt.
public enum FailOutcome: Sendable, Hashable {
    /// The job waits in the delayed set for its retry.
    case willRetry
    /// The job is dead.
    case dead
    /// The job's cancel was requested while it ran: it is cancelled, not retried.
    case cancelled
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

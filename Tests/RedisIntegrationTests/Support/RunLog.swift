import BackgroundJobsCore
import BackgroundJobsDomain
import Foundation
import Synchronization

/// What the handlers of a test ran: each job's runs in order, with their start times.
final class RunLog: Sendable {
    private let runs = Mutex<[(id: JobID, at: Date)]>([])

    func record(_ id: JobID) {
        let now = Date()
        runs.withLock { $0.append((id, now)) }
    }

    var order: [JobID] { runs.withLock { $0.map(\.id) } }
    var count: Int { runs.withLock { $0.count } }
    var counts: [JobID: Int] { runs.withLock { Dictionary($0.map { ($0.id, 1) }, uniquingKeysWith: +) } }
    func starts(of id: JobID) -> [Date] { runs.withLock { $0.filter { $0.id == id }.map(\.at) } }
}

/// A queue that records the failures the pool reports, to check retry times without waiting for them, and
/// can lose the answer of a wait that fetched (the fetch applied in Redis, its reply never read).
struct FailureRecordingQueue: JobQueue {
    struct LostReply: Error {}

    struct Failure: Sendable {
        var id: JobID
        var error: String
        var retryAt: Date?
        var now: Date
    }

    let base: any JobQueue
    private let box: FailureBox

    init(_ base: any JobQueue) {
        self.base = base
        self.box = FailureBox()
    }

    var recorded: [Failure] { box.failures.withLock { $0 } }

    /// The next wait that fetches a job throws instead of answering.
    func loseNextFetchingWaitReply() { box.losesWaitReply.store(true, ordering: .relaxed) }
    var lostWaitReplies: Int { box.lostWaitReplies.load(ordering: .relaxed) }

    func enqueue(_ job: Job, limits: QueueLimits) async throws -> EnqueueOutcome { try await base.enqueue(job, limits: limits) }
    func fetch(for worker: WorkerID, from queues: [QueueName], limit: Int, starvationLimit: Duration?, now: Date) async throws -> FetchResult {
        try await base.fetch(for: worker, from: queues, limit: limit, starvationLimit: starvationLimit, now: now)
    }
    func complete(_ job: Job, by worker: WorkerID, result: [UInt8]?, now: Date) async throws -> Bool {
        try await base.complete(job, by: worker, result: result, now: now)
    }
    func fail(_ job: Job, by worker: WorkerID, error: String, retryAt: Date?, now: Date) async throws -> FailOutcome {
        box.failures.withLock { $0.append(Failure(id: job.id, error: error, retryAt: retryAt, now: now)) }
        return try await base.fail(job, by: worker, error: error, retryAt: retryAt, now: now)
    }
    func requeue(_ jobs: [Job], by worker: WorkerID) async throws -> Int { try await base.requeue(jobs, by: worker) }
    func promoteDue(now: Date, limit: Int) async throws -> PromotionResult { try await base.promoteDue(now: now, limit: limit) }
    func job(_ id: JobID) async throws -> Job? { try await base.job(id) }
    func cancel(_ id: JobID, now: Date) async throws -> CancelOutcome { try await base.cancel(id, now: now) }
    func retryDead(_ id: JobID) async throws -> RetryDeadOutcome { try await base.retryDead(id) }
    func waitForCancellations(of worker: WorkerID, timeout: Duration) async throws -> [JobID] {
        try await base.waitForCancellations(of: worker, timeout: timeout)
    }
    func markCancelled(_ job: Job, by worker: WorkerID, now: Date) async throws -> Bool {
        try await base.markCancelled(job, by: worker, now: now)
    }
    func queues() async throws -> [QueueName] { try await base.queues() }
    func counts(of queue: QueueName) async throws -> QueueCounts { try await base.counts(of: queue) }
    func list(_ queue: QueueName, status: JobStatus, cursor: String?, limit: Int) async throws -> JobPage {
        try await base.list(queue, status: status, cursor: cursor, limit: limit)
    }
    func setPaused(_ queue: QueueName, _ paused: Bool) async throws { try await base.setPaused(queue, paused) }
    func purge(_ queue: QueueName) async throws -> Int { try await base.purge(queue) }
    func retryAllDead(in queue: QueueName) async throws -> Int { try await base.retryAllDead(in: queue) }
    func waitForWork(in queues: [QueueName], timeout: Duration) async throws { try await base.waitForWork(in: queues, timeout: timeout) }
    func waitAndFetch(
        for worker: WorkerID, from queues: [QueueName], limit: Int, starvationLimit: Duration?, timeout: Duration
    ) async throws -> FetchResult {
        let result = try await base.waitAndFetch(for: worker, from: queues, limit: limit, starvationLimit: starvationLimit, timeout: timeout)
        if !result.jobs.isEmpty, box.losesWaitReply.compareExchange(expected: true, desired: false, ordering: .relaxed).exchanged {
            box.lostWaitReplies.add(1, ordering: .relaxed)
            throw LostReply()
        }
        return result
    }
    func interruptWait(of worker: WorkerID) async throws { try await base.interruptWait(of: worker) }
    func heartbeat(_ worker: WorkerInfo, ttl: Duration) async throws { try await base.heartbeat(worker, ttl: ttl) }
    func workers() async throws -> [WorkerInfo] { try await base.workers() }
    func setProgress(_ job: Job, by worker: WorkerID, percent: Int) async throws -> Bool {
        try await base.setProgress(job, by: worker, percent: percent)
    }
    func updatePayload(_ job: Job, by worker: WorkerID, payload: [UInt8]) async throws -> Bool {
        try await base.updatePayload(job, by: worker, payload: payload)
    }
    func events(after cursor: String?, timeout: Duration) async throws -> (events: [JobEvent], cursor: String) {
        try await base.events(after: cursor, timeout: timeout)
    }
    func sweep(now: Date, dryRun: Bool) async throws -> Int { try await base.sweep(now: now, dryRun: dryRun) }
    func unregister(_ worker: WorkerID) async throws { try await base.unregister(worker) }
    func reapDeadWorkers(now: Date, stallLimit: Int, grace: Duration) async throws -> ReapResult {
        try await base.reapDeadWorkers(now: now, stallLimit: stallLimit, grace: grace)
    }
    func reconcile(_ worker: WorkerID, running: Set<JobID>) async throws -> Int { try await base.reconcile(worker, running: running) }
}

final class FailureBox: Sendable {
    let failures = Mutex<[FailureRecordingQueue.Failure]>([])
    let losesWaitReply = Atomic<Bool>(false)
    let lostWaitReplies = Atomic<Int>(0)
}

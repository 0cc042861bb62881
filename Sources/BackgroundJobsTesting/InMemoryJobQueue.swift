public import BackgroundJobsCore
public import BackgroundJobsDomain
import Synchronization

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A ``JobQueue`` in this process's memory, for testing handlers and services without Redis. It keeps
/// the rules of the Redis queue (priorities, limits, unique keys, ownership, retries, heartbeats), checked
/// by the same contract tests, but nothing survives the process.
public final class InMemoryJobQueue: JobQueue {
    private struct Held {
        var job: Job
        /// When a finished job is forgotten.
        var expiresAt: Date?  // by the real clock, as Redis expires keys
        /// The worker holding a processing job.
        var worker: WorkerID?
        /// When the job last became ready, for the starvation limit.
        var readyAt: Date
    }

    private struct State {
        var jobs: [JobID: Held] = [:]
        var ready: [QueueName: [JobPriority: [JobID]]] = [:]
        var delayed: [JobID: Date] = [:]
        var processing: [WorkerID: [JobID]] = [:]
        var dead: [QueueName: [JobID]] = [:]
        var unfinished: [QueueName: Int] = [:]
        var unique: [String: (holder: JobID, expiresAt: Date)] = [:]
        var heartbeats: [WorkerID: Date] = [:]
        /// Workers a reap found without a live heartbeat, and when it first did.
        var missingSince: [WorkerID: Date] = [:]
        var workerInfo: [WorkerID: WorkerInfo] = [:]
        var events: [JobEvent] = []
        var nextEvent = 0
        var queues: Set<QueueName> = []
        var paused: Set<QueueName> = []
        var cancelRequested: Set<JobID> = []
        var control: [WorkerID: [JobID]] = [:]
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    /// How long a completed job stays readable.
    public let completedRetention: Duration
    /// How long a dead job stays readable.
    public let deadRetention: Duration
    private let state = Mutex(State())

    /// An empty queue; finished jobs are kept as long as on Redis by default.
    public init(completedRetention: Duration = .seconds(24 * 3600), deadRetention: Duration = .seconds(7 * 24 * 3600)) {
        self.completedRetention = completedRetention
        self.deadRetention = deadRetention
    }

    public func enqueue(_ job: Job, limits: QueueLimits) async throws -> EnqueueOutcome {
        let now = Date()
        let outcome = try state.withLock { state throws -> EnqueueOutcome in
            if let maxJobs = limits.maxJobs, state.unfinished[job.queue, default: 0] >= maxJobs {
                throw JobQueueError(.queueFull, "the queue holds its maximum of \(maxJobs) unfinished jobs")
            }
            if let key = job.uniqueKey, let holder = state.unique[key], holder.expiresAt > now {
                return .duplicate(of: holder.holder)
            }
            if state.jobs[job.id] != nil {
                throw JobQueueError(.corruptJob, "a job with the id \(job.id) exists already")
            }
            if let key = job.uniqueKey {
                state.unique[key] = (job.id, now.addingTimeInterval(max(0.001, limits.uniqueFor.timeInterval)))
            }
            state.unfinished[job.queue, default: 0] += 1
            state.queues.insert(job.queue)
            if job.status == .scheduled, let runAt = job.scheduledAt {
                state.jobs[job.id] = Held(job: job, readyAt: runAt)
                state.delayed[job.id] = runAt
            } else {
                state.jobs[job.id] = Held(job: job, readyAt: job.createdAt)
                state.ready[job.queue, default: [:]][job.priority, default: []].append(job.id)
            }
            return .enqueued
        }
        if outcome == .enqueued { wakeAll() }
        return outcome
    }

    public func fetch(
        for worker: WorkerID, from queues: [QueueName], limit: Int, starvationLimit: Duration?, now: Date
    ) async throws -> FetchResult {
        let (jobs, nextDue, promoted) = state.withLock { state -> ([Job], Date?, Bool) in
            let promoted = Self.promote(&state, now: now, limit: Int.max) > 0
            var taken: [Job] = []
            func take(_ queue: QueueName, _ priority: JobPriority) -> Bool {
                guard taken.count < limit, let id = state.ready[queue]?[priority]?.first else { return false }
                state.ready[queue]![priority]!.removeFirst()
                guard var held = state.jobs[id] else { return true }
                try! held.job.transition(to: .processing)
                held.job.attempts += 1
                held.job.startedAt = now
                held.worker = worker
                state.jobs[id] = held
                state.processing[worker, default: []].append(id)
                taken.append(held.job)
                return true
            }
            if let starvationLimit {
                for queue in queues where !state.paused.contains(queue) {
                    for priority in JobPriority.mostUrgentFirst.dropFirst() {
                        while let id = state.ready[queue]?[priority]?.first,
                            now.timeIntervalSince(state.jobs[id]?.readyAt ?? .distantPast) >= starvationLimit.timeInterval,
                            take(queue, priority)
                        {}
                    }
                }
            }
            for queue in queues where !state.paused.contains(queue) {
                for priority in JobPriority.mostUrgentFirst {
                    while take(queue, priority) {}
                }
            }
            return (taken, state.delayed.values.min(), promoted)
        }
        if promoted { wakeAll() }
        return FetchResult(jobs: jobs, nextDue: nextDue)
    }

    public func complete(_ job: Job, by worker: WorkerID, result: [UInt8]?, now: Date) async throws -> Bool {
        state.withLock { state in
            guard Self.release(&state, job.id, from: worker), var held = state.jobs[job.id] else { return false }
            state.cancelRequested.remove(job.id)
            try! held.job.transition(to: .completed)
            held.job.finishedAt = now
            held.job.result = result
            held.worker = nil
            held.expiresAt = Date().addingTimeInterval(completedRetention.timeInterval)
            state.jobs[job.id] = held
            Self.finish(&state, held.job)
            return true
        }
    }

    public func fail(_ job: Job, by worker: WorkerID, error: String, retryAt: Date?, now: Date) async throws -> FailOutcome {
        let outcome = state.withLock { state -> FailOutcome in
            guard Self.release(&state, job.id, from: worker), var held = state.jobs[job.id] else { return .notHeld }
            held.worker = nil
            held.job.lastError = error
            if state.cancelRequested.contains(job.id) {
                state.jobs[job.id] = held
                cancelHeld(&state, job.id, now: now)
                return .cancelled
            }
            if let retryAt {
                try! held.job.transition(to: .failed)
                held.job.scheduledAt = retryAt
                held.readyAt = retryAt
                state.delayed[job.id] = retryAt
                state.jobs[job.id] = held
                return .willRetry
            }
            state.jobs[job.id] = held
            bury(&state, job.id, reason: error, now: now)
            return .dead
        }
        if outcome == .willRetry { wakeAll() }
        return outcome
    }

    public func requeue(_ jobs: [Job], by worker: WorkerID) async throws -> Int {
        let count = state.withLock { state in
            jobs.reduce(0) { count, job in
                guard Self.release(&state, job.id, from: worker) else { return count }
                return Self.makeReady(&state, job.id, first: true, undoAttempt: true) ? count + 1 : count
            }
        }
        if count > 0 { wakeAll() }
        return count
    }

    public func promoteDue(now: Date, limit: Int) async throws -> PromotionResult {
        let result = state.withLock { state in
            PromotionResult(promoted: Self.promote(&state, now: now, limit: limit), nextDue: state.delayed.values.min())
        }
        if result.promoted > 0 { wakeAll() }
        return result
    }

    public func job(_ id: JobID) async throws -> Job? {
        let now = Date()
        return state.withLock { state in
            guard let held = state.jobs[id] else { return nil }
            if let expiresAt = held.expiresAt, expiresAt <= now {
                state.jobs[id] = nil
                return nil
            }
            return held.job
        }
    }

    public func cancel(_ id: JobID, now: Date) async throws -> CancelOutcome {
        let outcome = state.withLock { state -> CancelOutcome in
            guard var held = state.jobs[id] else { return .notFound }
            switch held.job.status {
            case .processing:
                guard let worker = held.worker else { return .notWaiting(.processing) }
                state.cancelRequested.insert(id)
                state.control[worker, default: []].append(id)
                return .cancelling
            case .pending:
                state.ready[held.job.queue]?[held.job.priority]?.removeAll { $0 == id }
            case .scheduled, .failed:
                state.delayed[id] = nil
            default:
                return .notWaiting(held.job.status)
            }
            try! held.job.transition(to: .cancelled)
            held.job.finishedAt = now
            held.expiresAt = Date().addingTimeInterval(completedRetention.timeInterval)
            state.jobs[id] = held
            Self.finish(&state, held.job)
            return .cancelled
        }
        if outcome == .cancelling { wakeAll() }
        return outcome
    }

    public func waitForCancellations(of worker: WorkerID, timeout: Duration) async throws -> [JobID] {
        func take() -> [JobID] {
            state.withLock { state in
                defer { state.control[worker] = nil }
                return state.control[worker] ?? []
            }
        }
        let ready = take()
        if !ready.isEmpty { return ready }
        try await waitForWork(in: [], timeout: timeout)
        return take()
    }

    public func markCancelled(_ job: Job, by worker: WorkerID, now: Date) async throws -> Bool {
        state.withLock { state in
            guard Self.release(&state, job.id, from: worker) else { return false }
            cancelHeld(&state, job.id, now: now)
            return true
        }
    }

    private func cancelHeld(_ state: inout State, _ id: JobID, now: Date) {
        guard var held = state.jobs[id] else { return }
        state.cancelRequested.remove(id)
        try! held.job.transition(to: .cancelled)
        held.job.finishedAt = now
        held.worker = nil
        held.expiresAt = Date().addingTimeInterval(completedRetention.timeInterval)
        state.jobs[id] = held
        Self.finish(&state, held.job)
    }

    public func retryDead(_ id: JobID) async throws -> RetryDeadOutcome {
        let outcome = state.withLock { state -> RetryDeadOutcome in
            guard var held = state.jobs[id] else { return .notFound }
            guard held.job.status == .dead else { return .notDead(held.job.status) }
            state.dead[held.job.queue]?.removeAll { $0 == id }
            held.expiresAt = nil
            held.job.attempts = 0
            held.job.stalls = 0
            held.job.finishedAt = nil
            held.readyAt = Date()
            state.jobs[id] = held
            state.unfinished[held.job.queue, default: 0] += 1
            _ = Self.makeReady(&state, id, first: false, undoAttempt: false)
            return .requeued
        }
        if outcome == .requeued { wakeAll() }
        return outcome
    }

    public func queues() async throws -> [QueueName] {
        state.withLock { $0.queues.sorted() }
    }

    public func counts(of queue: QueueName) async throws -> QueueCounts {
        let now = Date()
        return state.withLock { state in
            let jobs = state.jobs.values.filter { $0.job.queue == queue && ($0.expiresAt ?? .distantFuture) > now }
            func count(_ status: JobStatus) -> Int { jobs.filter { $0.job.status == status }.count }
            var pending: [JobPriority: Int] = [:]
            for priority in JobPriority.allCases { pending[priority] = state.ready[queue]?[priority]?.count ?? 0 }
            return QueueCounts(
                queue: queue, pending: pending, scheduled: count(.scheduled), retrying: count(.failed),
                processing: count(.processing), completed: count(.completed), dead: count(.dead), cancelled: count(.cancelled),
                paused: state.paused.contains(queue))
        }
    }

    public func list(_ queue: QueueName, status: JobStatus, cursor: String?, limit: Int) async throws -> JobPage {
        let now = Date()
        let ordered: [Job] = state.withLock { state in
            switch status {
            case .pending:
                return JobPriority.mostUrgentFirst.flatMap { state.ready[queue]?[$0] ?? [] }.compactMap { state.jobs[$0]?.job }
            case .scheduled, .failed:
                return state.delayed.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
                    .compactMap { state.jobs[$0.key]?.job }.filter { $0.queue == queue && $0.status == status }
            default:
                return state.jobs.values.filter { $0.job.queue == queue && $0.job.status == status && ($0.expiresAt ?? .distantFuture) > now }
                    .map(\.job).sorted { (($0.finishedAt ?? $0.createdAt), $0.id) < (($1.finishedAt ?? $1.createdAt), $1.id) }
            }
        }
        var start = 0
        if let cursor {
            guard cursor.hasPrefix("m:"), let id = try? JobID(String(cursor.dropFirst(2))) else {
                throw JobQueueError(.invalidCursor, "the cursor \(cursor.debugDescription) was not made by this listing")
            }
            start = (ordered.firstIndex { $0.id == id }.map { $0 + 1 }) ?? ordered.count
        }
        let page = Array(ordered.dropFirst(start).prefix(max(1, limit)))
        let more = start + page.count < ordered.count
        return JobPage(jobs: page, next: more ? page.last.map { "m:\($0.id)" } : nil)
    }

    public func setPaused(_ queue: QueueName, _ paused: Bool) async throws {
        state.withLock { state in
            if paused { state.paused.insert(queue) } else { state.paused.remove(queue) }
        }
        if !paused { wakeAll() }
    }

    public func purge(_ queue: QueueName) async throws -> Int {
        state.withLock { state in
            var removed = 0
            for id in JobPriority.allCases.flatMap({ state.ready[queue]?[$0] ?? [] }) {
                if let held = state.jobs.removeValue(forKey: id) {
                    Self.finish(&state, held.job)
                    removed += 1
                }
            }
            state.ready[queue] = nil
            for (id, _) in state.delayed where state.jobs[id]?.job.queue == queue {
                state.delayed[id] = nil
                if let held = state.jobs.removeValue(forKey: id) {
                    Self.finish(&state, held.job)
                    removed += 1
                }
            }
            return removed
        }
    }

    public func retryAllDead(in queue: QueueName) async throws -> Int {
        let ids = state.withLock { $0.dead[queue] ?? [] }
        var count = 0
        for id in ids where try await retryDead(id) == .requeued { count += 1 }
        return count
    }

    public func waitForWork(in queues: [QueueName], timeout: Duration) async throws {
        let number = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withCheckedContinuation { continuation in
            state.withLock { $0.waiters[number] = continuation }
            // Started once the waiter is stored, so its firing always finds it (or finds it resumed).
            Task {
                try? await Task.sleep(for: timeout)
                self.resumeWaiter(number)
            }
        }
    }

    /// Ends every wait under way: a wait promises no job, so waking the others too is harmless.
    public func interruptWait(of worker: WorkerID) async throws {
        let waiters = state.withLock { state in
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    public func heartbeat(_ worker: WorkerInfo, ttl: Duration) async throws {
        let expiresAt = Date().addingTimeInterval(ttl.timeInterval)
        state.withLock { state in
            state.heartbeats[worker.id] = expiresAt
            state.workerInfo[worker.id] = worker
        }
    }

    public func workers() async throws -> [WorkerInfo] {
        let now = Date()
        return state.withLock { state in
            state.heartbeats.filter { $0.value > now }.keys.sorted().compactMap { state.workerInfo[$0] }
        }
    }

    public func setProgress(_ job: Job, by worker: WorkerID, percent: Int) async throws -> Bool {
        let done = state.withLock { state -> Bool in
            guard var held = state.jobs[job.id], held.worker == worker, held.job.status == .processing else { return false }
            held.job.progress = min(100, max(0, percent))
            state.jobs[job.id] = held
            state.nextEvent += 1
            state.events.append(JobEvent(cursor: "\(state.nextEvent)", job: job.id, change: .progress(held.job.progress!), at: Date()))
            return true
        }
        if done { wakeAll() }
        return done
    }

    public func updatePayload(_ job: Job, by worker: WorkerID, payload: [UInt8]) async throws -> Bool {
        state.withLock { state -> Bool in
            guard var held = state.jobs[job.id], held.worker == worker, held.job.status == .processing else { return false }
            held.job.payload = payload
            state.jobs[job.id] = held
            return true
        }
    }

    /// Events of progress only: the in-memory queue does not log status changes.
    public func events(after cursor: String?, timeout: Duration) async throws -> (events: [JobEvent], cursor: String) {
        func read(_ after: Int) -> [JobEvent] {
            state.withLock { $0.events.filter { Int($0.cursor)! > after } }
        }
        let after = cursor.flatMap { Int($0) } ?? state.withLock { $0.nextEvent }
        var found = read(after)
        if found.isEmpty {
            try await waitForWork(in: [], timeout: timeout)
            found = read(after)
        }
        return (found, found.last?.cursor ?? "\(after)")
    }

    public func sweep(now: Date, dryRun: Bool) async throws -> Int {
        state.withLock { state in
            let expired = state.jobs.filter { ($0.value.expiresAt ?? .distantFuture) <= now }.keys
            if dryRun { return expired.count }
            for id in expired { state.jobs[id] = nil }
            for queue in state.dead.keys { state.dead[queue]?.removeAll { state.jobs[$0] == nil } }
            return expired.count
        }
    }

    public func unregister(_ worker: WorkerID) async throws {
        try state.withLock { state throws in
            guard state.processing[worker, default: []].isEmpty else {
                throw JobQueueError(.unavailable, "the worker still holds jobs; requeue them first")
            }
            state.heartbeats[worker] = nil
            state.missingSince[worker] = nil
            state.workerInfo[worker] = nil
            state.processing[worker] = nil
        }
    }

    public func reapDeadWorkers(now: Date, stallLimit: Int, grace: Duration) async throws -> ReapResult {
        let result = state.withLock { state in
            var result = ReapResult(workers: 0, requeued: 0, dead: 0)
            for (worker, expiresAt) in state.heartbeats {
                guard expiresAt <= now else {
                    state.missingSince[worker] = nil
                    continue
                }
                let since = state.missingSince[worker] ?? now
                guard now.timeIntervalSince(since) >= grace.timeInterval else {
                    state.missingSince[worker] = since
                    continue
                }
                state.missingSince[worker] = nil
                for id in state.processing[worker, default: []].reversed() {
                    guard var held = state.jobs[id] else { continue }
                    if state.cancelRequested.contains(id) {
                        cancelHeld(&state, id, now: now)
                        continue
                    }
                    held.job.stalls += 1
                    state.jobs[id] = held
                    if held.job.stalls > stallLimit {
                        bury(&state, id, reason: "the job stalled \(held.job.stalls) times: its worker died while running it", now: now)
                        result.dead += 1
                    } else if Self.makeReady(&state, id, first: true, undoAttempt: false) {
                        result.requeued += 1
                    }
                }
                state.processing[worker] = nil
                state.heartbeats[worker] = nil
                result.workers += 1
            }
            return result
        }
        if result.requeued > 0 { wakeAll() }
        return result
    }

    public func reconcile(_ worker: WorkerID, running: Set<JobID>) async throws -> Int {
        let count = state.withLock { state in
            let strays = state.processing[worker, default: []].filter { !running.contains($0) }
            return strays.reduce(0) { count, id in
                guard Self.release(&state, id, from: worker) else { return count }
                return Self.makeReady(&state, id, first: true, undoAttempt: true) ? count + 1 : count
            }
        }
        if count > 0 { wakeAll() }
        return count
    }

    // MARK: Steps shared by the operations, each under the lock

    private static func release(_ state: inout State, _ id: JobID, from worker: WorkerID) -> Bool {
        guard let index = state.processing[worker]?.firstIndex(of: id) else { return false }
        state.processing[worker]!.remove(at: index)
        return true
    }

    private static func finish(_ state: inout State, _ job: Job) {
        state.unfinished[job.queue] = max(0, state.unfinished[job.queue, default: 0] - 1)
        if let key = job.uniqueKey, state.unique[key]?.holder == job.id { state.unique[key] = nil }
    }

    private func bury(_ state: inout State, _ id: JobID, reason: String, now: Date) {
        guard var held = state.jobs[id] else { return }
        try! held.job.transition(to: .dead)
        held.job.lastError = reason
        held.job.finishedAt = now
        held.worker = nil
        held.expiresAt = Date().addingTimeInterval(deadRetention.timeInterval)
        state.jobs[id] = held
        state.dead[held.job.queue, default: []].append(id)
        Self.finish(&state, held.job)
    }

    private static func makeReady(_ state: inout State, _ id: JobID, first: Bool, undoAttempt: Bool) -> Bool {
        guard var held = state.jobs[id] else { return false }
        try! held.job.transition(to: .pending)
        if undoAttempt { held.job.attempts = max(0, held.job.attempts - 1) }
        held.worker = nil
        state.jobs[id] = held
        if first {
            state.ready[held.job.queue, default: [:]][held.job.priority, default: []].insert(id, at: 0)
        } else {
            state.ready[held.job.queue, default: [:]][held.job.priority, default: []].append(id)
        }
        return true
    }

    private static func promote(_ state: inout State, now: Date, limit: Int) -> Int {
        let due = state.delayed.filter { $0.value <= now }.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.prefix(limit)
        for (id, _) in due {
            state.delayed[id] = nil
            _ = makeReady(&state, id, first: false, undoAttempt: false)
        }
        return due.count
    }

    private func wakeAll() {
        let waiters = state.withLock { state in
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    private func resumeWaiter(_ number: Int) {
        state.withLock { $0.waiters.removeValue(forKey: number) }?.resume()
    }
}

import BackgroundJobsDomain
import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One job in one slot: run its handler within its time limit, then record how the attempt ended.
extension JobWorkerPool {
    /// How a run of a handler ended, as the slot sees it.
    enum ExecutionEnd: Sendable {
        /// The handler returned or failed.
        case finished(JobOutcome)
        /// The job's time limit passed; the handler was cancelled and left behind.
        case timedOut(Duration)
        /// The pool stopped the job (a shutdown): it is put back to run again.
        case interrupted
        /// The job's cancel was requested: the handler was cancelled, and the job ends cancelled.
        case cancelled
    }

    /// Runs one job in a slot whose tasks prefer `executor` (`nil`: the global pool), its handler on
    /// `handlerThread` when there is one; returns whether the handler has ended (it has not after a timeout,
    /// a cancel or a shutdown, when the slot stopped waiting for it).
    @discardableResult
    func process(_ job: Job, on executor: (any TaskExecutor)?, handlerThread: ThreadExecutor? = nil) async -> Bool {
        let clock = ContinuousClock()
        let started = clock.now
        let readyAt = max(job.createdAt, job.scheduledAt ?? job.createdAt)
        metrics.jobStarted(job, waited: .milliseconds(Int64(max(0, Date().timeIntervalSince(readyAt)) * 1000)))
        let queue = self.queue
        let worker = self.worker
        let context = JobContext(
            job: job, logger: logger,
            progress: { percent in _ = try await queue.setProgress(job, by: worker, percent: percent) },
            payloadWriter: { payload in try await queue.updatePayload(job, by: worker, payload: payload) })
        if context.logs(at: .debug) { context.logger.debug("job started") }

        let settlement: Settlement
        let end = await execute(context, on: executor, handlerThread: handlerThread)
        var handlerEnded = false
        switch end {
        case .finished(.completed(let result)):
            settlement = .completed(result: result)
            handlerEnded = true
        case .finished(.failed(let reason, let retryable)):
            settlement = failure(of: job, reason: reason, retryable: retryable, context: context)
            handlerEnded = true
        case .timedOut(let limit):
            settlement = failure(of: job, reason: "timed out after \(limit)", retryable: true, context: context)
        case .cancelled:
            settlement = .cancelled
            if context.logs(at: .debug) { context.logger.debug("job cancelled on request") }
        case .interrupted:
            settlement = .putBack
            if context.logs(at: .debug) { context.logger.debug("job interrupted; it is put back") }
        }
        state.finished(WorkerPoolState.Pending(job: job, settlement: settlement, duration: clock.now - started))
        return handlerEnded
    }

    /// Runs the handler in a task of its own, so the slot can stop waiting for it: at its time limit
    /// (the handler is cancelled and the attempt fails), or when the slot is cancelled by a shutdown (the
    /// handler is cancelled and gets ``Configuration/cancellationGrace`` to end). A handler that ignores
    /// cancellation keeps running, but no longer holds a slot.
    func execute(_ context: JobContext, on executor: (any TaskExecutor)?, handlerThread: ThreadExecutor? = nil) async -> ExecutionEnd {
        let end = FirstResult<ExecutionEnd>()
        let registry = self.registry
        let run: @Sendable () async -> Void = {
            do {
                end.offer(.finished(try await registry.run(context)))
            } catch {
                end.offer(.interrupted)
            }
        }
        // An unstructured task does not inherit the slot's preference. A preference, even one for the global
        // executor, makes the runtime lock the task's status record at every resume, so none is given there.
        let handler: Task<Void, Never>
        if let preferred = handlerExecutor(executor, thread: handlerThread) {
            handler = Task(executorPreference: preferred) { await run() }
        } else {
            handler = Task { await run() }
        }
        state.setCanceller(context.job.id) {
            if end.offer(.cancelled) { handler.cancel() }
        }
        defer { state.setCanceller(context.job.id, nil) }
        let timeLimit = context.job.timeout ?? configuration.defaultTimeout
        let timer = timeLimit.map { limit in
            Task(executorPreference: executor) {
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                if end.offer(.timedOut(limit)) { handler.cancel() }
            }
        }
        let grace = configuration.cancellationGrace
        let result = await withTaskCancellationHandler {
            await end.value
        } onCancel: {
            handler.cancel()
            Task {
                try? await Task.sleep(for: grace)
                end.offer(.interrupted)
            }
        }
        timer?.cancel()
        return result
    }

    /// How a failed attempt is recorded: a retry after the backoff of the job type's policy while retries
    /// are left and the failure is retryable, else dead.
    private func failure(of job: Job, reason: String, retryable: Bool, context: JobContext) -> Settlement {
        let now = Date()
        var retryAt: Date?
        if retryable && job.hasRetriesLeft {
            let policy = registry.retryPolicy(for: job.name) ?? configuration.retry
            var generator = SystemRandomNumberGenerator()
            retryAt = now.addingTimeInterval(policy.delay(forRetry: job.attempts, using: &generator).timeInterval)
        }
        if context.logs(at: .debug) {
            context.logger.debug("job failed", metadata: ["reason": "\(reason)", "retry_at": "\(retryAt.map { "\($0)" } ?? "never")"])
        }
        return .failed(error: reason, retryAt: retryAt, at: now)
    }
}

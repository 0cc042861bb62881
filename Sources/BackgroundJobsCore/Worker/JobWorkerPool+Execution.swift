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

    func process(_ job: Job) async {
        let clock = ContinuousClock()
        let started = clock.now
        let readyAt = max(job.createdAt, job.scheduledAt ?? job.createdAt)
        metrics.jobStarted(job, waited: .milliseconds(Int64(max(0, Date().timeIntervalSince(readyAt)) * 1000)))
        let queue = self.queue
        let worker = self.worker
        let context = JobContext(job: job, logger: logger) { percent in
            _ = try await queue.setProgress(job, by: worker, percent: percent)
        }
        context.logger.debug("job started")

        let status: JobStatus
        switch await execute(context) {
        case .finished(.completed(let result)):
            status = .completed
            await acknowledge(job, "complete") {
                if try await self.queue.complete(job, by: self.worker, result: result, now: Date()) == false {
                    context.logger.warning("the job completed after it was taken over; its result is dropped")
                }
            }
        case .finished(.failed(let reason, let retryable)):
            status = await recordFailure(of: job, reason: reason, retryable: retryable, context: context)
        case .timedOut(let limit):
            status = await recordFailure(of: job, reason: "timed out after \(limit)", retryable: true, context: context)
        case .cancelled:
            status = .cancelled
            await acknowledge(job, "record the cancel of") {
                _ = try await self.queue.markCancelled(job, by: self.worker, now: Date())
            }
            context.logger.debug("job cancelled on request")
        case .interrupted:
            status = .pending
            await acknowledge(job, "put back") { _ = try await self.queue.requeue([job], by: self.worker) }
            context.logger.debug("job interrupted and put back")
        }
        metrics.jobFinished(job, status: status, duration: clock.now - started)
        state.finished(job.id, succeeded: status == .pending || status == .cancelled ? nil : status == .completed)
        metrics.workersBusy(state.counts.busy, of: configuration.concurrency)
    }

    /// Runs the handler in a task of its own, so the slot can stop waiting for it: at its time limit
    /// (the handler is cancelled and the attempt fails), or when the slot is cancelled by a shutdown (the
    /// handler is cancelled and gets ``Configuration/cancellationGrace`` to end). A handler that ignores
    /// cancellation keeps running, but no longer holds a slot.
    func execute(_ context: JobContext) async -> ExecutionEnd {
        let end = FirstResult<ExecutionEnd>()
        let registry = self.registry
        let handler = Task {
            do {
                end.offer(.finished(try await registry.run(context)))
            } catch {
                end.offer(.interrupted)
            }
        }
        state.setCanceller(context.job.id) {
            if end.offer(.cancelled) { handler.cancel() }
        }
        defer { state.setCanceller(context.job.id, nil) }
        let timeLimit = context.job.timeout ?? configuration.defaultTimeout
        let timer = timeLimit.map { limit in
            Task {
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

    /// Records a failed attempt: a retry after the backoff of the job type's policy while retries are
    /// left and the failure is retryable, else dead. Returns the job's new status.
    private func recordFailure(of job: Job, reason: String, retryable: Bool, context: JobContext) async -> JobStatus {
        let now = Date()
        var retryAt: Date?
        if retryable && job.hasRetriesLeft {
            let policy = registry.retryPolicy(for: job.name) ?? configuration.retry
            var generator = SystemRandomNumberGenerator()
            retryAt = now.addingTimeInterval(policy.delay(forRetry: job.attempts, using: &generator).timeInterval)
        }
        context.logger.debug(
            "job failed", metadata: ["reason": "\(reason)", "retry_at": "\(retryAt.map { "\($0)" } ?? "never")"])
        await acknowledge(job, "record the failure of") {
            _ = try await self.queue.fail(job, by: self.worker, error: reason, retryAt: retryAt, now: now)
        }
        return retryAt == nil ? .dead : .failed
    }

    /// Runs an acknowledgement until it gets through. Each one is safe to repeat: a second run finds the
    /// job no longer held and changes nothing. A slot cancelled at the end of a shutdown stops trying; the
    /// job then stays held and is put back when the pool leaves, or by the reaper.
    private func acknowledge(_ job: Job, _ action: String, _ operation: () async throws -> Void) async {
        var failures = 0
        while true {
            do {
                try await operation()
                return
            } catch {
                failures += 1
                if failures == 1 || Task.isCancelled {
                    logger.warning(
                        "could not \(action) a job; retrying",
                        metadata: [JobLogMetadata.id: "\(job.id)", "error": "\(error)"])
                }
                if Task.isCancelled { return }
                try? await Task.sleep(for: .milliseconds(min(1000, 25 << min(failures, 6))))
            }
        }
    }
}

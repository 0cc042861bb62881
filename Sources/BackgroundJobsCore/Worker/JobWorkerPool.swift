public import BackgroundJobsDomain
public import Logging
import ServiceLifecycle

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The worker pool: a bounded group of job slots fed by one fetch loop, with the heartbeat that keeps
/// its jobs its own and a reaper that takes over the jobs of dead workers.
///
/// Each job is held in the queue under this pool's worker id from fetch to acknowledgement, so a crash at
/// any point leaves it for the reaper of another process. A graceful shutdown stops fetching, lets running
/// jobs end for up to ``Configuration/shutdownTimeout``, cancels the rest, and puts them back to run
/// again; nothing is marked failed because the process stopped.
public final class JobWorkerPool: WorkerPool {
    public let worker: WorkerID
    let queue: any JobQueue
    let registry: JobRegistry
    let configuration: Configuration
    let metrics: any JobMetrics
    let logger: Logger
    let state: WorkerPoolState
    /// The queue's executors (its I/O threads): the fetch loop runs on the first, the slots on each in
    /// turn, so the queue's replies resume them where they run; empty for the global executor. Handlers
    /// run there too only with ``HandlerPlacement/queueThreads``.
    let executors: [any TaskExecutor]
    /// Where the heartbeat, the reaper and the cancel listener run (see ``ThreadExecutor``).
    let bookkeeping: ThreadExecutor
    let startedAt = Date()

    /// A pool running the handlers of `registry` on jobs of `queue`.
    public init(
        queue: any JobQueue,
        registry: JobRegistry,
        configuration: Configuration = Configuration(),
        metrics: any JobMetrics = NoJobMetrics(),
        logger: Logger
    ) throws(JobError) {
        try configuration.validate()
        if let workerID = configuration.workerID { self.worker = workerID } else { self.worker = try Self.makeWorkerID() }
        self.queue = queue
        self.registry = registry
        self.configuration = configuration
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "worker"] = "\(worker)"
        self.logger = logger
        self.state = WorkerPoolState(concurrency: configuration.concurrency)
        self.executors = queue.taskExecutors
        self.bookkeeping = ThreadExecutor(name: "jobs-bookkeeping")
    }

    /// Where a handler runs, for a slot on `executor` whose own handler thread (with
    /// ``HandlerPlacement/dedicatedThreads``) is `thread`; `nil` is the global executor, which the handler's
    /// task then reaches with no preference at all (see ``execute(_:on:handlerThread:)``).
    func handlerExecutor(_ executor: (any TaskExecutor)?, thread: ThreadExecutor?) -> (any TaskExecutor)? {
        if let thread { return thread }
        return configuration.handlerPlacement == .queueThreads ? executor : nil
    }

    public var snapshot: WorkerPoolSnapshot {
        let counts = state.counts
        return WorkerPoolSnapshot(
            queues: configuration.queues.queues, concurrency: configuration.concurrency, busy: counts.busy,
            processed: counts.processed, failed: counts.failed)
    }

    public func run() async throws {
        try await register()
        logger.info(
            "worker pool started",
            metadata: ["queues": "\(configuration.queues.queues)", "concurrency": "\(configuration.concurrency)"])
        await withTaskGroup(of: Void.self) { group in
            // On a thread of their own: no handler, blocking wherever it runs, can silence the heartbeat.
            group.addTask(executorPreference: bookkeeping) { await self.keepAlive() }
            group.addTask(executorPreference: bookkeeping) { await self.reapDeadWorkers() }
            group.addTask(executorPreference: bookkeeping) { await self.listenForCancellations() }
            await withTaskCancellationOrGracefulShutdownHandler {
                await withTaskExecutorPreference(self.executors.first) {
                    await self.processJobs()
                }
            } onCancelOrGracefulShutdown: {
                self.state.stop()
            }
            group.cancelAll()
        }
        await leave()
        bookkeeping.shutdown()
    }

    /// The fetch loop. Each round trip records the attempts that ended since the last one and takes jobs
    /// for the free slots, in one call: under load, many acknowledgements share it. With nothing to take
    /// it blocks in the queue until work is announced or a slot finishes.
    ///
    /// At a stop it takes no more jobs but goes on recording those that end, for up to
    /// ``Configuration/shutdownTimeout``; then it cancels the rest, whose jobs are put back.
    private func processJobs() async {
        await withDiscardingTaskGroup { slots in
            var generator = SystemRandomNumberGenerator()
            var nextDue: Date?
            var failures = 0
            var reconcileAt = ContinuousClock.now
            var drainDeadline: ContinuousClock.Instant?
            var cancelledSlots = false
            var interruptedWait = false
            var slotsStarted = 0
            func startSlots() {
                for _ in 0..<state.slotsToStart() {
                    // A nil preference is not the same as none: the runtime would lock its record on
                    // every resume of the slot.
                    if executors.isEmpty {
                        slots.addTask { await self.runSlot(on: nil) }
                    } else {
                        let executor = executors[slotsStarted % executors.count]
                        slots.addTask(executorPreference: executor) { await self.runSlot(on: executor) }
                    }
                    slotsStarted += 1
                }
            }
            while true {
                let stopping = state.isStopping
                if stopping {
                    if state.closeIfDrained() { break }
                    // A wait under way fetches when it ends; ended now, what it takes is put back below.
                    if state.waitsInQueue && !interruptedWait {
                        interruptedWait = true
                        do {
                            try await queue.interruptWait(of: worker)
                        } catch {
                            logger.debug("ending the wait for work failed", metadata: ["error": "\(error)"])
                        }
                    }
                    let deadline = drainDeadline ?? .now + configuration.shutdownTimeout
                    drainDeadline = deadline
                    if !cancelledSlots && ContinuousClock.now >= deadline {
                        logger.warning(
                            "jobs still running at the shutdown timeout are cancelled and put back",
                            metadata: ["jobs": "\(state.counts.busy)"])
                        slots.cancelAll()
                        cancelledSlots = true
                    }
                    // Past the deadline and its grace, a queue that does not answer is left to the reaper.
                    if failures > 0 && ContinuousClock.now >= deadline + configuration.cancellationGrace + .seconds(5) {
                        logger.warning("the queue does not answer; unrecorded jobs are left for the reaper")
                        break
                    }
                }
                if stopping { state.releaseBuffer() }
                // Jobs a wait in the queue fetched start at once, before any round trip.
                startSlots()
                let batch = state.takePending()
                // Fetch for the free slots and a buffer as deep again, so a slot that finishes takes its next
                // job at once instead of waiting for a round trip.
                let depth = configuration.concurrency + (configuration.prefetch ?? configuration.concurrency)
                // A job that stalled before runs alone (the queue hands it only to a worker that holds
                // nothing else): if it kills this process again, no other job stalls with it.
                // While a wait under way is to fetch, the loop fetches nothing itself (the two could
                // take more than the depth, and a reconcile would put back what the wait took).
                let wanted = stopping || state.holdsSuspect || state.waitsInQueue ? 0 : max(0, depth - state.counts.busy - state.buffered)
                if batch.isEmpty && wanted == 0 {
                    if let drainDeadline, !cancelledSlots {
                        await state.pause(for: max(.milliseconds(1), drainDeadline - .now))
                    } else {
                        await state.waitForWake()
                    }
                    continue
                }
                do {
                    if !state.waitsInQueue && (state.takeReconcileRequest() || ContinuousClock.now >= reconcileAt) {
                        let putBack = try await queue.reconcile(worker, running: state.held)
                        if putBack > 0 { logger.warning("put back jobs this worker held but did not run", metadata: ["jobs": "\(putBack)"]) }
                        reconcileAt = .now + configuration.reconcileInterval
                    }
                    let (outcomes, fetched) = try await queue.settle(
                        batch.map { ($0.job, $0.settlement) }, by: worker, fetching: wanted,
                        from: configuration.queues.nextOrder(using: &generator), starvationLimit: configuration.starvationLimit,
                        now: Date())
                    if failures > 0 { logger.info("the queue answers again") }
                    failures = 0
                    state.settled(batch, outcomes)
                    report(batch, outcomes)
                    nextDue = fetched.nextDue
                    state.buffer(fetched.jobs)
                    startSlots()
                    metrics.workersBusy(state.counts.busy, of: configuration.concurrency)
                    // Not beside a stalled job: the wait would fetch others next to it. Its end wakes the loop.
                    if !stopping && !state.holdsSuspect && fetched.jobs.count < wanted {
                        await waitForWork(until: nextDue, fetching: wanted - fetched.jobs.count)
                    }
                } catch {
                    // The call may have taken effect with its answer lost: the settlements are sent again
                    // (a second time changes nothing), and jobs it took are found by reconciling.
                    state.restorePending(batch)
                    reconcileAt = .now
                    failures += 1
                    let level: Logger.Level = failures == 1 ? .warning : .debug
                    logger.log(level: level, "the queue failed; retrying", metadata: ["error": "\(error)", "failures": "\(failures)"])
                    await state.pause(for: Self.backoff(failures))
                }
            }
            state.close()
        }
    }

    /// A slot: runs buffered jobs one after another until none is left. With
    /// ``HandlerPlacement/dedicatedThreads`` its handlers run on a thread of the slot's own; a handler that
    /// did not end with its job (a timeout, a cancel, a shutdown's grace) keeps that thread, and the slot
    /// goes on with a new one.
    private func runSlot(on executor: (any TaskExecutor)?) async {
        var thread = configuration.handlerPlacement == .dedicatedThreads ? ThreadExecutor(name: "jobs-handler") : nil
        while let job = state.nextJob() {
            let ended = await process(job, on: executor, handlerThread: thread)
            if let current = thread, !ended {
                current.shutdown()
                thread = ThreadExecutor(name: "jobs-handler")
            }
        }
        thread?.shutdown()
    }

    /// Reports settled attempts to the metrics and the log.
    private func report(_ batch: [WorkerPoolState.Pending], _ outcomes: [SettlementOutcome]) {
        for (entry, outcome) in zip(batch, outcomes) {
            let status: JobStatus
            switch outcome {
            case .completed: status = .completed
            case .willRetry: status = .failed
            case .dead: status = .dead
            case .cancelled: status = .cancelled
            case .putBack: status = .pending
            case .notHeld:
                logger.warning(
                    "a job ended after it was taken over; its outcome is dropped", metadata: [JobLogMetadata.id: "\(entry.job.id)"])
                continue
            }
            metrics.jobFinished(entry.job, status: status, duration: entry.duration)
        }
    }

    /// Blocks in the queue until work is announced, the next waiting job is due, or the idle timeout,
    /// then takes up to `limit` jobs in the same round trip; returns early when a slot finishes or the
    /// pool stops.
    private func waitForWork(until nextDue: Date?, fetching limit: Int) async {
        var timeout = configuration.idleTimeout
        if let nextDue {
            let untilDue = Duration.milliseconds(Int64(max(0, nextDue.timeIntervalSinceNow * 1000).rounded(.up)))
            timeout = min(timeout, untilDue)
        }
        guard timeout > .zero else { return }
        // The blocking call is not cancellable, so it runs on its own and the loop waits for a signal;
        // one under way already will signal when it ends. A job that comes to wait for an earlier time than
        // a wait under way was given leaves a marker in the timer's wake list, which ends that wait.
        if state.beginBlockingWait() {
            var generator = SystemRandomNumberGenerator()
            let queues = configuration.queues.nextOrder(using: &generator)
            let (worker, starvationLimit, timeout) = (self.worker, configuration.starvationLimit, timeout)
            let endsForDueJob = timeout < configuration.idleTimeout
            let wait: @Sendable () async -> Void = {
                // Redis ends a blocking command at its timeout only on one of its later turns (jobs-bench
                // delayed: lateness p50 1.0 ms before the wait fetched, 2.5 ms after, a p99 of 315 ms in one
                // run): a wait that is to end because a job falls due is ended on this process's timer.
                let dueTimer = endsForDueJob ? Task {
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    do {
                        try await self.queue.interruptWait(of: worker)
                    } catch {
                        self.logger.debug("ending the wait for a due job failed", metadata: ["error": "\(error)"])
                    }
                } : nil
                defer { dueTimer?.cancel() }
                var fetched: [Job] = []
                var failed = false
                do {
                    fetched = try await self.queue.waitAndFetch(
                        for: worker, from: queues, limit: limit, starvationLimit: starvationLimit, timeout: timeout
                    ).jobs
                } catch {
                    // A fetch whose reply was lost left its jobs in this worker's processing list, where
                    // nothing else would look before the next scheduled reconcile (a minute by default).
                    failed = true
                    self.logger.debug("waiting for work failed", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: min(timeout, .milliseconds(100)))
                }
                if !self.state.endBlockingWait(fetched: fetched, failed: failed), !fetched.isEmpty {
                    // The pool stopped without waiting for this wait (its queue stopped answering).
                    do {
                        _ = try await self.queue.requeue(fetched, by: worker)
                    } catch {
                        self.logger.warning(
                            "jobs fetched after the pool stopped could not be put back; the reaper will",
                            metadata: ["jobs": "\(fetched.count)", "error": "\(error)"])
                    }
                }
            }
            // On the fetch loop's thread, where its wake-up resumes the loop without a hand-off.
            if let executor = executors.first {
                Task(executorPreference: executor) { await wait() }
            } else {
                Task { await wait() }
            }
        }
        await state.pause(for: timeout)
    }

    static func backoff(_ failures: Int) -> Duration {
        .milliseconds(min(1000, 25 << min(failures, 6)))
    }

    private static func makeWorkerID() throws(JobError) -> WorkerID {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
        let host = String(ProcessInfo.processInfo.hostName.filter(allowed.contains).prefix(64))
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return try WorkerID("\(host.isEmpty ? "worker" : host)-\(ProcessInfo.processInfo.processIdentifier)-\(random)")
    }
}

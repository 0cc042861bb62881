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
            group.addTask { await self.keepAlive() }
            group.addTask { await self.reapDeadWorkers() }
            group.addTask { await self.listenForCancellations() }
            await withTaskCancellationOrGracefulShutdownHandler {
                await self.processJobs()
            } onCancelOrGracefulShutdown: {
                self.state.stop()
            }
            group.cancelAll()
        }
        await leave()
    }

    /// The fetch loop: fills free slots with fetched jobs, and waits in the queue while there is none.
    private func processJobs() async {
        await withDiscardingTaskGroup { slots in
            var generator = SystemRandomNumberGenerator()
            var nextDue: Date?
            var failures = 0
            var reconcileAt = ContinuousClock.now
            while !state.isStopping {
                let free = await state.waitForFreeSlots()
                guard free > 0 else { break }
                do {
                    if ContinuousClock.now >= reconcileAt {
                        let putBack = try await queue.reconcile(worker, running: state.running)
                        if putBack > 0 { logger.warning("put back jobs this worker held but did not run", metadata: ["jobs": "\(putBack)"]) }
                        reconcileAt = .now + configuration.reconcileInterval
                    }
                    let fetched = try await queue.fetch(
                        for: worker, from: configuration.queues.nextOrder(using: &generator), limit: free,
                        starvationLimit: configuration.starvationLimit, now: Date())
                    if failures > 0 { logger.info("the queue answers again; fetching resumes") }
                    failures = 0
                    nextDue = fetched.nextDue
                    for job in fetched.jobs {
                        state.started(job.id)
                        slots.addTask { await self.process(job) }
                    }
                    metrics.workersBusy(state.counts.busy, of: configuration.concurrency)
                    if fetched.jobs.count < free { await waitForWork(until: nextDue) }
                } catch {
                    // The fetch may have taken jobs whose answer was lost: look for them once it works again.
                    reconcileAt = .now
                    failures += 1
                    let level: Logger.Level = failures == 1 ? .warning : .debug
                    logger.log(level: level, "fetching failed; retrying", metadata: ["error": "\(error)", "failures": "\(failures)"])
                    await state.pause(for: Self.backoff(failures))
                }
            }
            if Task.isCancelled { return }
            if !(await state.waitUntilIdle(timeout: configuration.shutdownTimeout)) {
                logger.warning(
                    "jobs still running at the shutdown timeout are cancelled and put back",
                    metadata: ["jobs": "\(state.counts.busy)"])
                slots.cancelAll()
            }
        }
    }

    /// Blocks in the queue until work is announced, the next waiting job is due, or the idle timeout.
    private func waitForWork(until nextDue: Date?) async {
        var timeout = configuration.idleTimeout
        if let nextDue {
            let untilDue = Duration.milliseconds(Int64(max(0, nextDue.timeIntervalSinceNow * 1000).rounded(.up)))
            timeout = min(timeout, untilDue)
        }
        guard timeout > .zero else { return }
        // The blocking call is not cancellable, so it runs on its own and the loop waits for its signal:
        // a stop does not wait for the block to time out.
        let queues = configuration.queues.queues
        let waiter = Task {
            do {
                try await self.queue.waitForWork(in: queues, timeout: timeout)
            } catch {
                self.logger.debug("waiting for work failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: min(timeout, .milliseconds(100)))
            }
            self.state.wake()
        }
        await state.waitForWake()
        _ = waiter
    }

    private static func backoff(_ failures: Int) -> Duration {
        .milliseconds(min(1000, 25 << min(failures, 6)))
    }

    private static func makeWorkerID() throws(JobError) -> WorkerID {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
        let host = String(ProcessInfo.processInfo.hostName.filter(allowed.contains).prefix(64))
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return try WorkerID("\(host.isEmpty ? "worker" : host)-\(ProcessInfo.processInfo.processIdentifier)-\(random)")
    }
}

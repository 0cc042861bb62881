import BackgroundJobsDomain
import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The pool's standing in the queue: its heartbeat, the reaper it runs for others, and a clean exit.
extension JobWorkerPool {
    /// Sends the first heartbeat, retrying until the queue answers: no job is fetched before the worker is
    /// known to be alive, or the reaper of another process could take it over at once.
    func register() async throws {
        var failures = 0
        while true {
            do {
                try await queue.heartbeat(info, ttl: configuration.heartbeatTTL)
                return
            } catch {
                try Task.checkCancellation()
                failures += 1
                if failures == 1 { logger.warning("the queue cannot be reached; retrying", metadata: ["error": "\(error)"]) }
                try await Task.sleep(for: Self.backoff(failures))
            }
        }
    }

    /// What the heartbeat tells about this worker.
    var info: WorkerInfo {
        let counts = snapshot
        return WorkerInfo(
            id: worker, host: ProcessInfo.processInfo.hostName, pid: Int(ProcessInfo.processInfo.processIdentifier),
            queues: counts.queues, concurrency: counts.concurrency, busy: counts.busy, processed: counts.processed,
            failed: counts.failed, startedAt: startedAt)
    }

    /// Refreshes the heartbeat until cancelled. After a failed beat it beats again soon (backing off to a
    /// second), not a whole interval later: when the queue comes back after an outage, a heartbeat that
    /// waited out its interval could lapse and get this worker's jobs taken over while it runs them.
    func keepAlive() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let pause = failures == 0 ? configuration.heartbeatInterval : min(configuration.heartbeatInterval, Self.backoff(failures))
                try await Task.sleep(for: pause)
                try await queue.heartbeat(info, ttl: configuration.heartbeatTTL)
                if failures > 0 { logger.info("the heartbeat goes through again") }
                failures = 0
            } catch is CancellationError {
                return
            } catch {
                failures += 1
                if failures == 1 {
                    logger.warning("the heartbeat failed; jobs may be taken over if it stays silent", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// Stops the jobs whose cancel is requested, until cancelled. The wait for requests blocks in the queue
    /// and cannot be cancelled itself, so it runs apart and the loop stops waiting for it at once.
    func listenForCancellations() async {
        var failures = 0
        while !Task.isCancelled {
            let result = FirstResult<[JobID]?>()
            let queue = self.queue
            let worker = self.worker
            let timeout = configuration.idleTimeout
            let poll = Task {
                do {
                    result.offer(try await queue.waitForCancellations(of: worker, timeout: timeout))
                } catch {
                    result.offer([])
                    throw error
                }
            }
            guard let ids = await withTaskCancellationHandler(operation: { await result.value }, onCancel: { result.offer(nil) }) else {
                return
            }
            for id in ids where !state.cancel(id) {
                logger.debug("a cancel came for a job this worker no longer runs", metadata: [JobLogMetadata.id: "\(id)"])
            }
            if case .failure = await poll.result {
                failures += 1
                try? await Task.sleep(for: Self.backoff(failures))
            } else {
                failures = 0
            }
        }
    }

    /// Takes over the jobs of dead workers, and now and then trims finished jobs past their retention,
    /// until cancelled.
    func reapDeadWorkers() async {
        var sweepAt = ContinuousClock.now + configuration.sweepInterval
        while !Task.isCancelled {
            do {
                if ContinuousClock.now >= sweepAt {
                    sweepAt = .now + configuration.sweepInterval
                    _ = try await queue.sweep(now: Date())
                }
                // A live worker beats within its interval of Redis answering again (sooner after a failure).
                let result = try await queue.reapDeadWorkers(
                    now: Date(), stallLimit: configuration.stallLimit, grace: configuration.heartbeatInterval)
                if result.workers > 0 {
                    logger.warning(
                        "took over the jobs of dead workers",
                        metadata: ["workers": "\(result.workers)", "requeued": "\(result.requeued)", "dead": "\(result.dead)"])
                }
                try await Task.sleep(for: configuration.reaperInterval)
            } catch is CancellationError {
                return
            } catch {
                logger.debug("reaping failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: configuration.reaperInterval)
            }
        }
    }

    /// After the last slot ended: puts back any job still held (an acknowledgement that never got
    /// through) and leaves the registry. If the queue cannot be reached, the heartbeat simply expires and
    /// another process's reaper does the same.
    func leave() async {
        do {
            let putBack = try await queue.reconcile(worker, running: [])
            if putBack > 0 { logger.warning("put back jobs whose outcome could not be recorded", metadata: ["jobs": "\(putBack)"]) }
            try await queue.unregister(worker)
            logger.info("worker pool stopped", metadata: ["processed": "\(snapshot.processed)", "failed": "\(snapshot.failed)"])
        } catch {
            logger.warning(
                "the worker could not leave the queue cleanly; its jobs are taken over once its heartbeat expires",
                metadata: ["error": "\(error)"])
        }
    }
}

public import BackgroundJobsDomain

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// How one attempt of a held job ended, as a worker reports it.
public enum Settlement: Sendable, Hashable {
    /// The handler returned; `result` is its encoded output.
    case completed(result: [UInt8]?)
    /// The attempt failed at `at`: retried at `retryAt`, or dead without one.
    case failed(error: String, retryAt: Date?, at: Date)
    /// The job's cancel was requested and its handler stopped.
    case cancelled
    /// The worker stopped before the job ended (a shutdown): it runs again, its attempt undone.
    case putBack
}

/// What a settlement did to its job.
public enum SettlementOutcome: Sendable, Hashable {
    /// Completed.
    case completed
    /// Waiting for its retry.
    case willRetry
    /// Dead.
    case dead
    /// Cancelled.
    case cancelled
    /// Back in its ready list.
    case putBack
    /// The worker no longer held the job (it was taken over); nothing was changed.
    case notHeld
}

extension JobQueue {
    /// Records how attempts ended, then fetches up to `limit` jobs: a worker pool's whole round trip.
    /// This default makes one call per settlement and one fetch; the Redis queue does it in one script.
    public func settle(
        _ settlements: [(job: Job, settlement: Settlement)], by worker: WorkerID, fetching limit: Int, from queues: [QueueName],
        starvationLimit: Duration?, now: Date
    ) async throws -> (outcomes: [SettlementOutcome], fetched: FetchResult) {
        var outcomes: [SettlementOutcome] = []
        for (job, settlement) in settlements {
            switch settlement {
            case .completed(let result):
                outcomes.append(try await complete(job, by: worker, result: result, now: now) ? .completed : .notHeld)
            case .failed(let error, let retryAt, let failedAt):
                switch try await fail(job, by: worker, error: error, retryAt: retryAt, now: failedAt) {
                case .willRetry: outcomes.append(.willRetry)
                case .dead: outcomes.append(.dead)
                case .cancelled: outcomes.append(.cancelled)
                case .notHeld: outcomes.append(.notHeld)
                }
            case .cancelled:
                outcomes.append(try await markCancelled(job, by: worker, now: now) ? .cancelled : .notHeld)
            case .putBack:
                outcomes.append(try await requeue([job], by: worker) == 1 ? .putBack : .notHeld)
            }
        }
        let fetched = try await fetch(for: worker, from: queues, limit: limit, starvationLimit: starvationLimit, now: now)
        return (outcomes, fetched)
    }
}

import BackgroundJobsCore
import BackgroundJobsDomain
import Foundation
import BackgroundJobsRedis
import BackgroundJobsTesting
import Testing

/// The adapters that must keep the ``JobQueue`` contract; contract tests run once with each.
enum QueueAdapter: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case redis
    case memory

    var testDescription: String { rawValue }

    /// Runs `body` with a fresh, empty queue of this adapter (on Redis under a prefix of its own).
    func withQueue(_ body: @Sendable (any JobQueue) async throws -> Void) async throws {
        switch self {
        case .redis: try await SharedRedis.withQueue { queue, _, _ in try await body(queue) }
        case .memory: try await body(InMemoryJobQueue())
        }
    }
}

extension JobQueue {
    /// A heartbeat for a worker the test plays itself.
    func heartbeat(_ worker: WorkerID, ttl: Duration) async throws {
        let info = WorkerInfo(
            id: worker, host: "test", pid: 1, queues: [.default], concurrency: 1, busy: 0, processed: 0, failed: 0,
            startedAt: Date())
        try await heartbeat(info, ttl: ttl)
    }
}

public import Logging
public import ServiceLifecycle

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Trims the indexes of finished jobs whose data has expired, every `interval` (seed 003's
/// `cleanup_interval`, one minute by default), so listings and counts never point at jobs that are gone.
public struct RetentionSweeper: Service {
    let queue: any JobQueue
    let interval: Duration
    let logger: Logger

    /// A sweeper of `queue`.
    public init(queue: any JobQueue, interval: Duration = .seconds(60), logger: Logger) {
        self.queue = queue
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval) {
            do {
                let removed = try await queue.sweep(now: Date())
                if removed > 0 { logger.debug("swept expired entries of finished jobs", metadata: ["entries": "\(removed)"]) }
            } catch {
                logger.warning("sweeping finished jobs failed", metadata: ["error": "\(error)"])
            }
        }
    }
}

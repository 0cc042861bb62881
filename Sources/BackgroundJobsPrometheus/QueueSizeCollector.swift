public import BackgroundJobsCore
import BackgroundJobsDomain
public import Logging
public import ServiceLifecycle

/// Reads every queue's sizes and the live workers from the queue every `interval`, for the whole process:
/// not per scrape and not per job, so a Prometheus scraping often costs Redis nothing.
public struct QueueSizeCollector: Service {
    let queue: any JobQueue
    let metrics: PrometheusJobMetrics
    let interval: Duration
    let logger: Logger

    /// A collector writing to `metrics` every `interval` (seed 003's `collection_interval`, 30 s).
    public init(queue: any JobQueue, metrics: PrometheusJobMetrics, interval: Duration = .seconds(30), logger: Logger) {
        self.queue = queue
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval) {
            do {
                try await collect()
            } catch {
                logger.warning("reading queue sizes failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Reads the sizes once.
    public func collect() async throws {
        for name in try await queue.queues() {
            let counts = try await queue.counts(of: name)
            for (priority, size) in counts.pending {
                metrics.queueSize(name, priority: priority.rawValue, state: "ready", size)
            }
            metrics.queueSize(name, priority: "all", state: "delayed", counts.scheduled + counts.retrying)
            metrics.queueSize(name, priority: "all", state: "processing", counts.processing)
            metrics.queueSize(name, priority: "all", state: "dead", counts.dead)
        }
        metrics.activeWorkers(try await queue.workers().count)
    }
}

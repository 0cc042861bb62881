public import BackgroundJobsCore
import BackgroundJobsDomain
public import BackgroundJobsPrometheus
public import BackgroundJobsRedis
public import Logging
public import Prometheus
public import ServiceLifecycle

/// The hand-written container: builds every part of a job system from one configuration, and lists the
/// services a `ServiceGroup` runs. Plain code, no registry of services: what is built is what is read here.
///
/// ```swift
/// let system = try JobSystem.live(configuration: configuration, registry: registry, logger: logger)
/// try await ServiceGroup(services: system.services, gracefulShutdownSignals: [.sigterm], logger: logger).run()
/// await system.shutdown()
/// ```
public struct JobSystem: Sendable {
    /// What this process does.
    public enum Role: String, Sendable, CaseIterable {
        /// Accepts and inspects jobs; runs no worker.
        case api
        /// Runs workers, recurring jobs and clean-up.
        case worker
        /// Both.
        case all
    }

    /// The configuration it was built from.
    public let configuration: JobSystemConfiguration
    /// The Redis client every part shares.
    public let client: RedisClient
    /// The job queue.
    public let queue: RedisJobQueue
    /// Where recurring jobs are stored.
    public let scheduler: RedisScheduler
    /// The application service: submit, query, cancel, manage.
    public let service: JobService
    /// The worker pool, for the worker roles.
    public let pool: JobWorkerPool?
    /// Fires recurring jobs, for the worker roles with the scheduler enabled.
    public let recurring: RecurringJobService?
    /// Trims finished jobs past their retention, for the worker roles.
    public let sweeper: RetentionSweeper?
    /// The metrics, when enabled: serve `metrics.registry.emitToString()` at `/metrics`.
    public let metrics: PrometheusJobMetrics?
    /// Reads queue sizes into the metrics every `collection_interval`, when metrics are enabled.
    public let collector: QueueSizeCollector?

    /// The long-running parts, in the order a `ServiceGroup` should start them (and stop them in reverse).
    public var services: [any Service] {
        var services: [any Service] = []
        if let collector { services.append(collector) }
        if let sweeper { services.append(sweeper) }
        if let recurring { services.append(recurring) }
        if let pool { services.append(pool) }
        return services
    }

    /// Builds a job system on Redis from `configuration`, running the handlers of `registry`; metrics, when
    /// enabled, go to `prometheus`.
    ///
    /// `adding` registers handlers that need the queue (the built-in cleanup sweeps it), once it exists.
    public static func live(
        configuration: JobSystemConfiguration, registry: JobRegistry = JobRegistry(), role: Role = .all,
        prometheus: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), logger: Logger,
        adding handlers: (inout JobRegistry, RedisJobQueue) throws -> Void = { _, _ in }
    ) throws -> JobSystem {
        let prometheusMetrics =
            configuration.metrics.enabled ? PrometheusJobMetrics(registry: prometheus, namespace: configuration.metrics.namespace) : nil
        let metrics: any JobMetrics = prometheusMetrics ?? NoJobMetrics()
        let client = try RedisClient(url: configuration.redis.effectiveURL, logger: logger)
        let keys = try RedisKeys(prefix: configuration.redis.keyPrefix)
        let queue = RedisJobQueue(client: client, configuration: try .init(keys: keys), logger: logger)
        var registry = registry
        try handlers(&registry, queue)
        let scheduler = RedisScheduler(client: client, keys: keys, logger: logger)
        let settings = JobService.Settings(defaultMaxRetries: configuration.workerPool.maxRetries, queues: configuration.queues)
        let service = JobService(queue: queue, scheduler: scheduler, settings: settings, registry: registry, metrics: metrics)

        let runsWorkers = configuration.enabled && role != .api
        var pool: JobWorkerPool?
        if runsWorkers {
            pool = try JobWorkerPool(
                queue: queue, registry: registry,
                configuration: .init(
                    queues: try .strict(configuration.servedQueues), concurrency: configuration.workerPool.workerCount,
                    heartbeatInterval: configuration.workerPool.heartbeatInterval, heartbeatTTL: configuration.workerPool.heartbeatTTL,
                    reaperInterval: configuration.workerPool.reaperInterval, stallLimit: configuration.workerPool.stallLimit,
                    retry: configuration.retryPolicy, shutdownTimeout: configuration.workerPool.shutdownTimeout,
                    sweepInterval: configuration.scheduler.cleanupInterval, handlerPlacement: configuration.workerPool.handlerPlacement),
                metrics: metrics, logger: logger)
        }
        let recurring =
            runsWorkers && configuration.scheduler.enabled
            ? RecurringJobService(
                scheduler: scheduler, registry: registry,
                configuration: .init(defaultMaxRetries: configuration.workerPool.maxRetries), metrics: metrics, logger: logger)
            : nil
        let sweeper = runsWorkers ? RetentionSweeper(queue: queue, interval: configuration.scheduler.cleanupInterval, logger: logger) : nil
        let collector = prometheusMetrics.map {
            QueueSizeCollector(queue: queue, metrics: $0, interval: configuration.metrics.collectionInterval, logger: logger)
        }
        return JobSystem(
            configuration: configuration, client: client, queue: queue, scheduler: scheduler, service: service, pool: pool,
            recurring: recurring, sweeper: sweeper, metrics: prometheusMetrics, collector: collector)
    }

    /// Stores the recurring jobs of the configuration's `schedules`, each replacing the one with the same
    /// id (so a changed file takes effect when a process starts); recurring jobs added another way stay.
    public func installSchedules() async throws {
        for job in configuration.schedules {
            try await service.addRecurring(job)
        }
    }

    /// Closes the Redis connections, after the services have stopped.
    public func shutdown() async {
        await client.close()
    }
}

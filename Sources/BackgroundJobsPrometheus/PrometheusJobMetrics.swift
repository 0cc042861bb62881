public import BackgroundJobsCore
public import BackgroundJobsDomain
public import Prometheus
import Synchronization

/// The ``JobMetrics`` port on Prometheus: seed 003's metrics, plus the wait before a job starts and the
/// busy slots of each worker pool, under one namespace (by default `background_jobs`).
///
/// It writes to a `PrometheusCollectorRegistry` directly rather than through swift-metrics, because only
/// the registry takes the help texts that `promtool check metrics` requires. Handles are made once per
/// label set and kept, so recording costs a dictionary lookup and an atomic add.
public final class PrometheusJobMetrics: JobMetrics {
    /// The registry the metrics are in; serve `registry.emitToString()` at `/metrics`.
    public let registry: PrometheusCollectorRegistry
    /// The prefix of every metric name.
    public let namespace: String

    private struct Labels: Hashable {
        var values: [String]
    }

    private struct Handles {
        var counters: [String: [Labels: Counter]] = [:]
        var gauges: [String: [Labels: Gauge]] = [:]
        var histograms: [String: [Labels: DurationHistogram]] = [:]
    }

    private let handles = Mutex(Handles())

    /// Buckets of the duration and wait histograms, from 1 ms to 5 minutes.
    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
        .seconds(60), .seconds(300),
    ]

    /// Metrics in `registry`, named `<namespace>_...`.
    public init(registry: PrometheusCollectorRegistry, namespace: String = "background_jobs") {
        self.registry = registry
        self.namespace = namespace
    }

    public func jobEnqueued(_ job: Job) {
        counter(
            "enqueued", "Jobs submitted.", ["queue", "job_type", "priority"],
            [job.queue.rawValue, job.name.rawValue, job.priority.rawValue]
        ).increment()
    }

    public func jobStarted(_ job: Job, waited: Duration) {
        histogram("wait", "Time from a job being ready to its attempt starting.", job).record(waited)
    }

    public func jobFinished(_ job: Job, status: JobStatus, duration: Duration) {
        // A job put back at a shutdown did not finish: it is counted when it runs again.
        guard status != .pending else { return }
        counter(
            "processed", "Attempts that ended, by the status they left the job in.", ["queue", "job_type", "status"],
            [job.queue.rawValue, job.name.rawValue, status.rawValue]
        ).increment()
        histogram("duration", "How long attempts ran.", job).record(duration)
        if status == .failed {
            counter("retries", "Failed attempts that will be retried.", ["queue", "job_type"], [job.queue.rawValue, job.name.rawValue])
                .increment()
        }
    }

    public func workersBusy(_ busy: Int, of concurrency: Int) {
        gauge("worker_busy", "Job slots of this process running a job.", [], []).set(Double(busy))
        gauge("worker_concurrency", "Job slots of this process.", [], []).set(Double(concurrency))
    }

    /// Sets the size of one part of a queue, as the collector reads it.
    public func queueSize(_ queue: QueueName, priority: String, state: String, _ size: Int) {
        gauge("queue_size", "Jobs in a queue, by priority and state.", ["queue", "priority", "state"], [queue.rawValue, priority, state])
            .set(Double(size))
    }

    /// Sets the number of live worker processes.
    public func activeWorkers(_ count: Int) {
        gauge("active_workers", "Worker processes with a live heartbeat.", [], []).set(Double(count))
    }

    /// Every metric of the registry in Prometheus's text format, for `/metrics`.
    public func exposition() -> String {
        registry.emitToString()
    }

    // MARK: Handles

    private func counter(_ name: String, _ help: String, _ keys: [String], _ values: [String]) -> Counter {
        let labels = Labels(values: values)
        if let counter = handles.withLock({ $0.counters[name]?[labels] }) { return counter }
        let counter = registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: namespace, metricName: name, unitName: "total", helpText: help),
            labels: Array(zip(keys, values)))
        handles.withLock { $0.counters[name, default: [:]][labels] = counter }
        return counter
    }

    private func gauge(_ name: String, _ help: String, _ keys: [String], _ values: [String]) -> Gauge {
        let labels = Labels(values: values)
        if let gauge = handles.withLock({ $0.gauges[name]?[labels] }) { return gauge }
        let gauge = registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: namespace, metricName: name, unitName: "", helpText: help),
            labels: Array(zip(keys, values)))
        handles.withLock { $0.gauges[name, default: [:]][labels] = gauge }
        return gauge
    }

    private func histogram(_ name: String, _ help: String, _ job: Job) -> DurationHistogram {
        let labels = Labels(values: [job.queue.rawValue, job.name.rawValue])
        if let histogram = handles.withLock({ $0.histograms[name]?[labels] }) { return histogram }
        let histogram = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: namespace, metricName: name, unitName: "seconds", helpText: help),
            labels: [("queue", job.queue.rawValue), ("job_type", job.name.rawValue)], buckets: Self.buckets)
        handles.withLock { $0.histograms[name, default: [:]][labels] = histogram }
        return histogram
    }
}

import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsPrometheus
import BackgroundJobsTesting
import Foundation
import Logging
import Prometheus
import Testing

@Suite("Prometheus metrics")
struct PrometheusJobMetricsTests {
    static func job(_ queue: QueueName = .default, name: JobName = "send_email", priority: JobPriority = .high) -> Job {
        Job(
            id: JobID.generate(at: Date()), name: name, payload: Array("{}".utf8), options: JobOptions(queue: queue, priority: priority),
            maxRetries: 3, createdAt: Date())
    }

    @Test("job events become seed 003's metrics, with the wait and busy slots besides")
    func exposition() throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = PrometheusJobMetrics(registry: registry)
        let job = Self.job()
        metrics.jobEnqueued(job)
        metrics.jobEnqueued(job)
        metrics.jobStarted(job, waited: .milliseconds(3))
        metrics.jobFinished(job, status: .completed, duration: .milliseconds(40))
        metrics.jobFinished(job, status: .failed, duration: .milliseconds(7))
        metrics.jobFinished(job, status: .pending, duration: .milliseconds(1))
        metrics.workersBusy(2, of: 5)
        metrics.queueSize("email", priority: "high", state: "ready", 12)
        metrics.activeWorkers(3)

        let text = registry.emitToString()
        #expect(text.contains(#"background_jobs_enqueued_total{queue="default",job_type="send_email",priority="high"} 2"#))
        #expect(text.contains(#"background_jobs_processed_total{queue="default",job_type="send_email",status="completed"} 1"#))
        #expect(text.contains(#"background_jobs_processed_total{queue="default",job_type="send_email",status="failed"} 1"#))
        #expect(!text.contains(#"status="pending""#), "a job put back is not an ended attempt")
        #expect(text.contains(#"background_jobs_retries_total{queue="default",job_type="send_email"} 1"#))
        #expect(text.contains(#"background_jobs_duration_seconds_count{queue="default",job_type="send_email"} 2"#))
        #expect(text.contains(#"background_jobs_wait_seconds_bucket{queue="default",job_type="send_email",le="0.005"} 1"#))
        #expect(text.contains("background_jobs_worker_busy 2"))
        #expect(text.contains("background_jobs_worker_concurrency 5"))
        #expect(text.contains(#"background_jobs_queue_size{queue="email",priority="high",state="ready"} 12"#))
        #expect(text.contains("background_jobs_active_workers 3"))
        #expect(text.contains("# HELP background_jobs_processed_total "))
    }

    @Test("promtool finds no problem in the output")
    func promtool() throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = PrometheusJobMetrics(registry: registry)
        let job = Self.job()
        metrics.jobEnqueued(job)
        metrics.jobStarted(job, waited: .milliseconds(3))
        metrics.jobFinished(job, status: .completed, duration: .milliseconds(40))
        metrics.jobFinished(job, status: .failed, duration: .milliseconds(40))
        metrics.workersBusy(1, of: 5)
        metrics.queueSize("default", priority: "low", state: "ready", 1)
        metrics.activeWorkers(1)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(registry.emitToString().utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "promtool: \(report)")
        #expect(report.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool: \(report)")
    }

    @Test("the collector reads every queue's sizes and the live workers at once")
    func collector() async throws {
        let queue = InMemoryJobQueue()
        for priority in [JobPriority.low, .low, .critical] {
            _ = try await queue.enqueue(Self.job(.default, priority: priority), limits: QueueLimits())
        }
        _ = try await queue.enqueue(Self.job("email", priority: .normal), limits: QueueLimits())
        let worker = try WorkerID("w-1")
        try await queue.heartbeat(
            WorkerInfo(id: worker, host: "h", pid: 1, queues: [.default], concurrency: 1, busy: 0, processed: 0, failed: 0, startedAt: Date()),
            ttl: .seconds(30))
        _ = try await queue.fetch(for: worker, from: ["email"], limit: 1, now: Date())

        let registry = PrometheusCollectorRegistry()
        let metrics = PrometheusJobMetrics(registry: registry)
        try await QueueSizeCollector(queue: queue, metrics: metrics, logger: Logger(label: "test")).collect()
        let text = registry.emitToString()
        #expect(text.contains(#"background_jobs_queue_size{queue="default",priority="low",state="ready"} 2"#))
        #expect(text.contains(#"background_jobs_queue_size{queue="default",priority="critical",state="ready"} 1"#))
        #expect(text.contains(#"background_jobs_queue_size{queue="email",priority="all",state="processing"} 1"#))
        #expect(text.contains("background_jobs_active_workers 1"))
    }
}

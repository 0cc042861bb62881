import ArgumentParser
import BackgroundJobs
import Foundation

/// `latency`: jobs submitted one at a time at a steady rate into idle workers; enqueue → start.
struct LatencyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "latency", abstract: "Enqueue-to-start latency at a steady rate.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Jobs to submit.") var jobs: Int = 2000
    @Option(help: "Jobs per second.") var rate: Int = 500
    @Option(help: "Job slots of the worker pool.") var concurrency: Int = 10

    func run() async throws {
        let results = try await repeated(common) { bench in
            let latency = LatencyRecorder()
            let service = JobService(queue: bench.queue)
            let (jobs, rate) = (self.jobs, self.rate)
            let client = bench.client
            let doneKey = bench.doneKey
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await bench.runPool(registry: bench.registry(total: jobs, latency: latency), concurrency: concurrency) {
                        (try await client.send("GET", doneKey).string.flatMap { Int($0) } ?? 0) >= jobs
                    }
                }
                // Let the pool go idle first, then send at the rate, each job on its own schedule.
                try await Task.sleep(for: .milliseconds(500))
                let clock = ContinuousClock()
                let start = clock.now
                for index in 0..<jobs {
                    try await clock.sleep(until: start + .nanoseconds(Int64(index) * 1_000_000_000 / Int64(rate)))
                    _ = try await service.submit(BenchEnvironment.job, BenchPayload(sentAt: BenchClock.nowNanoseconds))
                }
                try await group.waitForAll()
            }
            let delivery = try await bench.deliveryCounts(total: jobs)
            let percentiles = latency.percentiles
            return ScenarioResult(
                scenario: "latency", jobs: jobs, seconds: Double(jobs) / Double(rate), p50: percentiles.p50, p90: percentiles.p90,
                p99: percentiles.p99, lost: delivery.lost, duplicated: delivery.duplicated, extra: ["rate": rate])
        }
        medianRun(results, by: { $0.p99 ?? 0 }).print()
    }
}

/// `delayed`: jobs due at times spread over a span, all submitted up front; how late each starts.
struct DelayedBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delayed", abstract: "Lateness of delayed jobs against their due time.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Jobs to submit.") var jobs: Int = 2000
    @Option(help: "Seconds over which the jobs fall due.") var span: Int = 10
    @Option(help: "Job slots of the worker pool.") var concurrency: Int = 10

    func run() async throws {
        let results = try await repeated(common) { bench in
            let lateness = LatencyRecorder()
            let service = JobService(queue: bench.queue)
            let jobs = self.jobs
            let client = bench.client
            let doneKey = bench.doneKey
            let first = Date().addingTimeInterval(1)
            for index in 0..<jobs {
                let due = first.addingTimeInterval(Double(span) * Double(index) / Double(jobs))
                let dueMilliseconds = Int64((due.timeIntervalSince1970 * 1000).rounded())
                _ = try await service.submit(
                    BenchEnvironment.job, BenchPayload(dueAt: dueMilliseconds),
                    options: JobOptions(scheduledAt: Date(timeIntervalSince1970: Double(dueMilliseconds) / 1000)))
            }
            try await bench.runPool(registry: bench.registry(total: jobs, latency: lateness), concurrency: concurrency) {
                (try await client.send("GET", doneKey).string.flatMap { Int($0) } ?? 0) >= jobs
            }
            let delivery = try await bench.deliveryCounts(total: jobs)
            let percentiles = lateness.percentiles
            return ScenarioResult(
                scenario: "delayed", jobs: jobs, seconds: Double(span), p50: percentiles.p50, p90: percentiles.p90, p99: percentiles.p99,
                lost: delivery.lost, duplicated: delivery.duplicated)
        }
        medianRun(results, by: { $0.p99 ?? 0 }).print()
    }
}

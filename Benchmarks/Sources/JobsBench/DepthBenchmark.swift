import ArgumentParser
import BackgroundJobs
import Foundation

/// `depth`: the cost of processing a job with a deep queue against a shallow one. The same number of jobs
/// is processed from a queue holding `deep` jobs and from one holding `shallow`; their per-job times are
/// compared (a ratio near 1 means nothing grows with the queue's length).
struct DepthBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "depth", abstract: "Per-job processing cost with a deep queue against a shallow one.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Jobs queued in the deep run.") var deep: Int = 1_000_000
    @Option(help: "Jobs queued in the shallow run.") var shallow: Int = 10_000
    @Option(help: "Jobs processed in each run.") var processed: Int = 10_000
    @Option(help: "Job slots of the worker pool.") var concurrency: Int = 10

    func validate() throws {
        guard processed > 0, processed <= shallow, shallow <= deep else {
            throw ValidationError("--processed must be at most --shallow, and --shallow at most --deep")
        }
    }

    func run() async throws {
        var ratios: [Double] = []
        var last: (deep: Double, shallow: Double) = (0, 0)
        for _ in 0..<common.runs {
            let shallowSeconds = try await perJob(queued: shallow)
            let deepSeconds = try await perJob(queued: deep)
            ratios.append(deepSeconds / shallowSeconds)
            last = (deepSeconds, shallowSeconds)
        }
        var result = ScenarioResult(scenario: "depth", jobs: processed, seconds: last.deep * Double(processed))
        result.extra["per_job_us_deep"] = (last.deep * 1e6).rounded()
        result.extra["per_job_us_shallow"] = (last.shallow * 1e6).rounded()
        result.extra["ratio"] = (median(ratios) * 100).rounded() / 100
        result.extra["queued_deep"] = deep
        result.extra["queued_shallow"] = shallow
        result.print()
    }

    /// Seconds per job to process `processed` jobs from a queue that holds `queued`.
    private func perJob(queued: Int) async throws -> Double {
        try await repeated(common, runs: 1) { bench in
            let service = JobService(queue: bench.queue)
            let payloads = Array(repeating: BenchPayload(), count: 1000)
            for offset in stride(from: 0, to: queued, by: 1000) {
                _ = try await service.submit(BenchEnvironment.job, batch: Array(payloads.prefix(min(1000, queued - offset))))
            }
            // Redis grows its key table by rehashing in steps after the fill; let that finish so the run
            // measures the steady cost of a deep queue, not the one-off cost of having grown it.
            try await Task.sleep(for: .seconds(3))
            let total = processed
            let client = bench.client
            let doneKey = bench.doneKey
            try await bench.runPool(registry: bench.registry(total: total), concurrency: concurrency) {
                (try await client.send("GET", doneKey).string.flatMap { Int($0) } ?? 0) >= total
            }
            let seconds = try await bench.processingSeconds()
            return ScenarioResult(scenario: "depth", jobs: total, seconds: seconds)
        }[0].seconds / Double(processed)
    }
}

import ArgumentParser
import BackgroundJobs
import Foundation

/// `enqueue-bulk`: N jobs through the batch API, 1,000 per call as Sidekiq's `push_bulk` does.
struct EnqueueBulkBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enqueue-bulk", abstract: "Jobs/s submitted through the batch API.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Jobs to submit.") var jobs: Int = 50_000
    @Option(help: "Jobs per batch call.") var batch: Int = 1000

    func run() async throws {
        let results = try await repeated(common) { bench in
            let service = JobService(queue: bench.queue)
            let payloads = Array(repeating: BenchPayload(), count: batch)
            let before = try await bench.redisTotals()
            let clock = ContinuousClock()
            let start = clock.now
            var stored = 0
            for offset in stride(from: 0, to: jobs, by: batch) {
                let outcomes = try await service.submit(BenchEnvironment.job, batch: Array(payloads.prefix(min(batch, jobs - offset))))
                stored += outcomes.filter { if case .success(.submitted) = $0 { true } else { false } }.count
            }
            let seconds = (clock.now - start).timeInterval
            let after = try await bench.redisTotals()
            let pending = try await bench.queue.counts(of: .default).totalPending
            return ScenarioResult(
                scenario: "enqueue-bulk", jobs: jobs, seconds: seconds,
                commandsPerJob: Double(after.commands - before.commands) / Double(jobs),
                bytesPerJob: Double(after.bytes - before.bytes) / Double(jobs), lost: jobs - min(stored, pending), duplicated: max(0, pending - jobs))
        }
        medianRun(results).print()
    }
}

/// `enqueue-single`: N single submissions from T concurrent tasks.
struct EnqueueSingleBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enqueue-single", abstract: "Jobs/s submitted one call each, from concurrent tasks.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Jobs to submit.") var jobs: Int = 50_000
    @Option(help: "Concurrent submitting tasks.") var tasks: Int = 50

    func run() async throws {
        let results = try await repeated(common) { bench in
            let service = JobService(queue: bench.queue)
            let before = try await bench.redisTotals()
            let clock = ContinuousClock()
            let start = clock.now
            let (jobs, tasks) = (self.jobs, self.tasks)
            let stored = try await withThrowingTaskGroup(of: Int.self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        var stored = 0
                        for _ in stride(from: task, to: jobs, by: tasks) {
                            if case .submitted = try await service.submit(BenchEnvironment.job, BenchPayload()) { stored += 1 }
                        }
                        return stored
                    }
                }
                return try await group.reduce(0, +)
            }
            let seconds = (clock.now - start).timeInterval
            let after = try await bench.redisTotals()
            let pending = try await bench.queue.counts(of: .default).totalPending
            return ScenarioResult(
                scenario: "enqueue-single", jobs: jobs, seconds: seconds,
                commandsPerJob: Double(after.commands - before.commands) / Double(jobs),
                bytesPerJob: Double(after.bytes - before.bytes) / Double(jobs), lost: jobs - min(stored, pending),
                duplicated: max(0, pending - jobs), extra: ["tasks": tasks])
        }
        medianRun(results).print()
    }
}

/// `memory`: Redis `used_memory` per queued job, for N small jobs (status and data kept).
struct MemoryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "memory", abstract: "Redis bytes per queued job.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Jobs to queue.") var jobs: Int = 50_000

    func run() async throws {
        let results = try await repeated(common) { bench in
            let service = JobService(queue: bench.queue)
            // The first job creates the queue's lists and sets; count what each further job adds.
            _ = try await service.submit(BenchEnvironment.job, BenchPayload())
            let before = try await bench.usedMemory() - (try await bench.client.send("MEMORY", "USAGE", bench.keys.events).int ?? 0)
            let payloads = Array(repeating: BenchPayload(), count: 1000)
            for offset in stride(from: 0, to: jobs, by: 1000) {
                _ = try await service.submit(BenchEnvironment.job, batch: Array(payloads.prefix(min(1000, jobs - offset))))
            }
            // The event stream is bounded history, not state of the queued jobs: its bytes are reported apart.
            let stream = try await bench.client.send("MEMORY", "USAGE", bench.keys.events).int ?? 0
            let after = try await bench.usedMemory() - stream
            let pending = try await bench.queue.counts(of: .default).totalPending
            var result = ScenarioResult(scenario: "memory", jobs: jobs, seconds: 0, lost: jobs + 1 - pending)
            result.extra["bytes_per_job"] = Double(after - before) / Double(jobs)
            result.extra["event_stream_bytes"] = stream
            return result
        }
        medianRun(results, by: { $0.extra["bytes_per_job"] as? Double ?? 0 }).print()
    }
}

extension BenchEnvironment {
    func usedMemory() async throws -> Int {
        let info = try await client.send("INFO", "memory").string ?? ""
        return info.split(separator: "\r\n").first { $0.hasPrefix("used_memory:") }.flatMap { Int($0.dropFirst("used_memory:".count)) } ?? 0
    }
}

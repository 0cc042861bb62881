import ArgumentParser
import BackgroundJobs
import Foundation
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `process`: the queue pre-filled with N jobs; time from the first completion to the N-th, with worker
/// pools in this process or in child processes.
struct ProcessBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process", abstract: "Jobs/s processing a pre-filled queue, from first to last completion.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Jobs in the queue.")
    var jobs: Int = 50_000

    @Option(help: "Job slots per worker process.")
    var concurrency: Int = 10

    @Option(help: "Worker processes; 1 runs the pool in this process.")
    var processes: Int = 1

    @Flag(help: "Time each job's own INCR round trip (one process only; adds two clock reads and a lock per job).")
    var timeJobCommand = false

    func run() async throws {
        let results = try await repeated(common, once)
        medianRun(results, by: { -Double($0.jobs) / $0.seconds }).print()
    }

    func once(_ bench: BenchEnvironment) async throws -> ScenarioResult {
        for start in stride(from: 0, to: jobs, by: 1000) {
            let batch = (start..<min(start + 1000, jobs)).map { _ in (bench.job(), QueueLimits()) }
            _ = try await bench.queue.enqueue(batch)
        }
        let before = try await bench.redisTotals()
        let ownCPU = ProcessCPU.ownSeconds
        let childrenCPU = ProcessCPU.childrenSeconds
        let total = jobs
        let client = bench.client
        let doneKey = bench.doneKey
        let finished: @Sendable () async throws -> Bool = {
            (try await client.send("GET", doneKey).string.flatMap { Int($0) } ?? 0) >= total
        }
        let roundTrips = timeJobCommand && processes <= 1 ? LatencyRecorder() : nil
        if processes <= 1 {
            try await bench.runPool(registry: bench.registry(total: total, roundTrips: roundTrips), concurrency: concurrency, until: finished)
        } else {
            let executable = URL(fileURLWithPath: CommandLine.arguments[0]).path
            let children = try (0..<processes).map { _ in
                try spawn(executable, ["worker", "--redis-url", common.redisURL, "--prefix", bench.keys.prefix,
                                       "--concurrency", "\(concurrency)", "--total", "\(total)", "--handlers", common.handlers.rawValue])
            }
            while try await !finished() { try await Task.sleep(for: .milliseconds(2)) }
            for child in children { kill(child, SIGTERM) }
            for child in children { var status: Int32 = 0; waitpid(child, &status, 0) }
        }
        // The workers' CPU: this process's own while its pool ran (with the 2 ms completion poll, a few
        // hundred commands), or the worker processes' whole lives (start-up included).
        let workerCPU = processes <= 1 ? ProcessCPU.ownSeconds - ownCPU : ProcessCPU.childrenSeconds - childrenCPU
        let after = try await bench.redisTotals()
        let seconds = try await bench.processingSeconds()
        let delivery = try await bench.deliveryCounts(total: total)
        var extra: [String: any Sendable] = [
            "processes": processes, "concurrency": concurrency, "handlers": common.handlers.rawValue,
            "redis_cpu_us_per_job": perJob(after.cpuSeconds - before.cpuSeconds), "worker_cpu_us_per_job": perJob(workerCPU),
        ]
        if let roundTrips {
            let percentiles = roundTrips.percentiles
            extra["job_command_p50_ms"] = percentiles.p50
            extra["job_command_p99_ms"] = percentiles.p99
        }
        return ScenarioResult(
            scenario: "process", jobs: total, seconds: seconds,
            commandsPerJob: Double(after.commands - before.commands) / Double(total),
            bytesPerJob: Double(after.bytes - before.bytes) / Double(total), lost: delivery.lost, duplicated: delivery.duplicated,
            extra: extra)
    }

    /// CPU `seconds` per job, in microseconds to one decimal.
    private func perJob(_ seconds: Double) -> Double {
        (seconds / Double(jobs) * 1e7).rounded() / 10
    }
}

/// A worker process of `process --processes N`: runs a pool on the run's keys until SIGTERM.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "A worker process (used by process).", shouldDisplay: false)

    @Option var redisURL: String
    @Option var prefix: String
    @Option var concurrency: Int
    @Option var total: Int
    @Option var handlers: HandlerPlacementOption = .globalExecutor

    func run() async throws {
        let bench = try BenchEnvironment(url: redisURL, prefix: prefix)
        let configuration = JobWorkerPool.Configuration(concurrency: concurrency, handlerPlacement: handlers.placement)
        let pool = try JobWorkerPool(queue: bench.queue, registry: bench.registry(total: total), configuration: configuration, logger: bench.logger)
        try await ServiceGroup(services: [pool], gracefulShutdownSignals: [.sigterm], logger: bench.logger).run()
    }
}

/// Starts a child process with the signal mask cleared, so SIGTERM reaches it.
func spawn(_ executable: String, _ arguments: [String]) throws -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, executable, nil, &attributes, argv, environ)
    guard status == 0 else { throw ValidationError("could not start \(executable): \(String(cString: strerror(status)))") }
    return pid
}

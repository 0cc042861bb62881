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
        let total = jobs
        let client = bench.client
        let doneKey = bench.doneKey
        let finished: @Sendable () async throws -> Bool = {
            (try await client.send("GET", doneKey).string.flatMap { Int($0) } ?? 0) >= total
        }
        if processes <= 1 {
            try await bench.runPool(registry: bench.registry(total: total), concurrency: concurrency, until: finished)
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
        let after = try await bench.redisTotals()
        let seconds = try await bench.processingSeconds()
        let delivery = try await bench.deliveryCounts(total: total)
        return ScenarioResult(
            scenario: "process", jobs: total, seconds: seconds,
            commandsPerJob: Double(after.commands - before.commands) / Double(total),
            bytesPerJob: Double(after.bytes - before.bytes) / Double(total), lost: delivery.lost, duplicated: delivery.duplicated,
            extra: ["processes": processes, "concurrency": concurrency, "handlers": common.handlers.rawValue])
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

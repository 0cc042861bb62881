import ArgumentParser
import BackgroundJobs
import Foundation
import Logging

@main
struct JobsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs-bench",
        abstract: "Measures BackgroundJobs against the Redis server REDIS_URL names.",
        subcommands: [
            ProcessBenchmark.self, EnqueueBulkBenchmark.self, EnqueueSingleBenchmark.self, LatencyBenchmark.self,
            DelayedBenchmark.self, MemoryBenchmark.self, DepthBenchmark.self,
            RedisSetBenchmark.self, WorkerCommand.self,
        ]
    )
}

/// Options every scenario shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "The Redis server; defaults to the REDIS_URL environment variable.")
    var redisURL: String = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:6379"

    @Option(help: "How many times each measurement runs; the median is reported.")
    var runs: Int = 3

    @Option(help: "Where worker pools run their handlers: global-executor (the default) or queue-threads.")
    var handlers: HandlerPlacementOption = .globalExecutor

    func client() throws -> RedisClient {
        var logger = Logger(label: "jobs-bench")
        logger.logLevel = .warning
        return try RedisClient(url: redisURL, logger: logger)
    }
}

/// `--handlers`: the worker pool's handler placement.
enum HandlerPlacementOption: String, ExpressibleByArgument, Sendable {
    case globalExecutor = "global-executor"
    case queueThreads = "queue-threads"

    var placement: JobWorkerPool.HandlerPlacement {
        self == .globalExecutor ? .globalExecutor : .queueThreads
    }
}

/// Prints one JSON object on a line of its own.
func report(_ fields: [String: any Sendable]) {
    let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

import ArgumentParser
import BackgroundJobs
import Foundation

/// `SET` throughput of the client from 1 task and from many concurrent tasks, beside
/// `redis-benchmark -t set -P 16` against the same server in the same run.
struct RedisSetBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-set",
        abstract: "SET commands/s from 1 and from N concurrent tasks, beside redis-benchmark -P 16."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Commands per measurement.")
    var commands: Int = 200_000

    @Option(help: "Concurrent tasks of the pipelined measurement.")
    var tasks: Int = 50

    @Option(help: "Pipelined connections of the client.")
    var connections: Int = 2

    @Flag(inversion: .prefixedNo, help: "Also run redis-benchmark -t set -P 16 against the same server.")
    var reference = true

    @Flag(inversion: .prefixedNo, help: "Also measure a single task.")
    var single = true

    func run() async throws {
        var configuration = try RedisConfiguration(url: common.redisURL)
        configuration.connectionCount = connections
        let client = RedisClient(configuration: configuration, logger: .init(label: "jobs-bench"))
        _ = try await client.send("PING")

        var single: [Double] = []
        var concurrent: [Double] = []
        var onConnections: [Double] = []
        var reference: [Double] = []
        for _ in 0..<common.runs {
            if self.single { single.append(try await measure(client: client, tasks: 1, commands: commands / 10)) }
            concurrent.append(try await measure(client: client, tasks: tasks, commands: commands))
            onConnections.append(try await measure(client: client, tasks: tasks, commands: commands, executors: client.taskExecutors))
            if self.reference, let rate = try redisBenchmark(configuration.endpoint) { reference.append(rate) }
        }
        _ = try await client.send("DEL", "bench:set")
        await client.close()

        var fields: [String: any Sendable] = [
            "scenario": "redis-set",
            "runs": common.runs,
            "commands": commands,
            "connections": connections,
            "set_\(tasks)_tasks_per_s": median(concurrent).rounded(),
            "set_\(tasks)_tasks_on_connection_threads_per_s": median(onConnections).rounded(),
        ]
        if !single.isEmpty { fields["set_1_task_per_s"] = median(single).rounded() }
        if !reference.isEmpty {
            fields["redis_benchmark_P16_per_s"] = median(reference).rounded()
            fields["ratio_\(tasks)_tasks_to_P16"] = (median(concurrent) / median(reference) * 1000).rounded() / 1000
            fields["ratio_\(tasks)_tasks_on_connection_threads_to_P16"] = (median(onConnections) / median(reference) * 1000).rounded() / 1000
        }
        report(fields)
    }

    /// Commands/s from `tasks` tasks; with `executors`, the tasks run on them in turn (the connections'
    /// threads), else on the global pool.
    private func measure(client: RedisClient, tasks: Int, commands: Int, executors: [any TaskExecutor] = []) async throws -> Double {
        let perTask = commands / tasks
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: 3)
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            let body: @Sendable () async throws -> Void = {
                for _ in 0..<perTask { _ = try await client.send("SET", "bench:set", value) }
            }
            for index in 0..<tasks {
                // A nil preference is not the same as none: it gives the task a record the runtime locks on
                // every resume.
                if executors.isEmpty {
                    group.addTask(operation: body)
                } else {
                    group.addTask(executorPreference: executors[index % executors.count], operation: body)
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - started
        return Double(perTask * tasks) / elapsed.seconds
    }

    /// `redis-benchmark -t set -P 16` against the same server (its defaults: 50 clients, 3-byte values).
    private func redisBenchmark(_ endpoint: RedisConfiguration.Endpoint) throws -> Double? {
        guard case .tcp(let host, let port) = endpoint else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["redis-benchmark", "-h", host, "-p", "\(port)", "-t", "set", "-P", "16", "-n", "\(commands * 5)", "--csv"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        // CSV: a header line, then "SET","<requests per second>",...
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("\"SET\"") {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if fields.count > 1, let rate = Double(fields[1]) { return rate }
        }
        return nil
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

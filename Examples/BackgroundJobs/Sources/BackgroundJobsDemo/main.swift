import BackgroundJobs
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

// Until the HTTP server lands, the demo shows a job system at work: it submits a handful of jobs (several
// priorities, a delayed one, one that fails once, one with a payload that does not decode), runs a worker
// pool until every job has finished, and prints what happened to each.

struct Greeting: Codable, Sendable {
    var name: String
}

let greet = JobDefinition<Greeting>("greet")
let flaky = JobDefinition<Greeting>("flaky")

var logger = Logger(label: "background-jobs-demo")
logger.logLevel = .info
let url = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:6379"

do {
    let client = try RedisClient(url: url, logger: logger)
    let keys = try RedisKeys(prefix: "demo-\(UInt32.random(in: 0...UInt32.max))")
    let queue = RedisJobQueue(client: client, configuration: try .init(keys: keys), logger: logger)

    let failedOnce = Mutex<Set<JobID>>([])
    var registry = JobRegistry()
    registry.register(greet) { greeting, context in
        context.logger.info("Hello, \(greeting.name)!")
    }
    registry.register(flaky, retry: .fixed(.milliseconds(500), maxRetries: 2)) { greeting, context in
        if failedOnce.withLock({ $0.insert(context.job.id).inserted }) {
            throw DemoError(message: "a first attempt that fails, to show a retry")
        }
        context.logger.info("Hello at last, \(greeting.name)!")
    }

    let jobs = JobService(queue: queue, registry: registry)
    var submitted: [JobID] = []
    for (name, priority) in [("Ada", JobPriority.low), ("Grace", .normal), ("Edsger", .high), ("Barbara", .critical)] {
        if case .submitted(let id) = try await jobs.submit(greet, Greeting(name: name), options: JobOptions(priority: priority)) {
            submitted.append(id)
        }
    }
    let extras = [
        try await jobs.submit(greet, Greeting(name: "later"), options: JobOptions(delay: .seconds(1))),
        try await jobs.submit(flaky, Greeting(name: "Alan")),
        try await jobs.submit(name: "greet", json: Array(#"{"nom":"Ken"}"#.utf8)),
    ]
    for case .submitted(let id) in extras { submitted.append(id) }
    print("Submitted \(submitted.count) jobs to Redis at \(client.configuration.endpoint)")

    let pool = try JobWorkerPool(queue: queue, registry: registry, configuration: .init(concurrency: 1), logger: logger)
    let group = ServiceGroup(services: [pool], logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        while true {
            var finished = 0
            for id in submitted where try await queue.job(id)?.status.isFinished == true { finished += 1 }
            if finished == submitted.count { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
    for id in submitted {
        guard let job = try await queue.job(id) else { continue }
        let detail = job.lastError.map { " (last error: \($0))" } ?? ""
        print("\(job.id)  \(job.name)  \(job.priority)  \(job.status) after \(job.attempts) attempt(s)\(detail)")
    }
    // The demo's keys live under a prefix of its own: delete them all.
    var cursor = "0"
    repeat {
        let reply = try await client.send("SCAN", cursor, "MATCH", "\(keys.prefix):*", "COUNT", 1000)
        cursor = reply.array?.first?.string ?? "0"
        let names = reply.array?.last?.array?.compactMap(\.bytes) ?? []
        if !names.isEmpty { _ = try await client.send(RedisCommand("UNLINK", arguments: names)) }
    } while cursor != "0"
    await client.close()
} catch {
    logger.error("The demo failed", metadata: ["error": "\(error)"])
    exit(1)
}

struct DemoError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

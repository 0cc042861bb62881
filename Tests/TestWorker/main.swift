// A worker process for the crash tests: it runs a JobWorkerPool against the Redis the tests use, with
// settings from its arguments, until it is killed.
//
// Usage: BackgroundJobsTestWorker <redis-url> <key-prefix> <worker-id> <concurrency> <heartbeat-ms> <ttl-ms>
//
// Its one job type, `hold`, counts each run in `<prefix>:runs:<job id>` and then sleeps for the
// milliseconds its payload names, so a test can kill the process while it holds jobs; with `"block": true`
// it blocks its thread instead, as a handler stuck in a synchronous call does.
import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

struct Hold: Codable, Sendable {
    var milliseconds: Int
    var block: Bool?
}

let arguments = CommandLine.arguments
guard arguments.count == 7, let concurrency = Int(arguments[4]), let heartbeat = Int(arguments[5]),
    let ttl = Int(arguments[6])
else {
    print("usage: BackgroundJobsTestWorker <redis-url> <key-prefix> <worker-id> <concurrency> <heartbeat-ms> <ttl-ms>")
    exit(2)
}
var logger = Logger(label: "test-worker")
logger.logLevel = .warning
let client = try RedisClient(url: arguments[1], logger: logger)
let keys = try RedisKeys(prefix: arguments[2])
let queue = RedisJobQueue(client: client, configuration: try .init(keys: keys), logger: logger)
var registry = JobRegistry()
registry.register(JobDefinition<Hold>("hold")) { hold, context in
    _ = try await client.send("INCR", "\(keys.prefix):runs:\(context.job.id)")
    if hold.block ?? false {
        usleep(UInt32(hold.milliseconds) * 1000)
    } else {
        try await Task.sleep(for: .milliseconds(hold.milliseconds))
    }
}
let pool = try JobWorkerPool(
    queue: queue, registry: registry,
    configuration: .init(
        concurrency: concurrency, workerID: try WorkerID(arguments[3]), heartbeatInterval: .milliseconds(heartbeat),
        heartbeatTTL: .milliseconds(ttl), reaperInterval: .milliseconds(heartbeat)),
    logger: logger)
let group = ServiceGroup(services: [pool], logger: logger)
try await group.run()
await client.close()

import BackgroundJobs
import Foundation
import Logging

// For now the demo proves the wiring a user needs first: it reaches the Redis server REDIS_URL names,
// writes and reads a key, and says which server it talked to.
let logger = Logger(label: "background-jobs-demo")
let url = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:6379"

do {
    let client = try RedisClient(url: url, logger: logger)
    let key = "jobs:demo:hello"
    _ = try await client.send("SET", key, "Hello from BackgroundJobs", "EX", 60)
    let greeting = try await client.send("GET", key).string ?? "(nothing)"
    let info = try await client.send("INFO", "server").string ?? ""
    let version = info.split(separator: "\r\n").first { $0.hasPrefix("redis_version:") }?.dropFirst("redis_version:".count) ?? "unknown"
    print("Connected to Redis \(version) at \(client.configuration.endpoint)")
    print("SET then GET \(key): \(greeting)")
    await client.close()
} catch {
    logger.error("The demo could not talk to Redis", metadata: ["error": "\(error)"])
    exit(1)
}

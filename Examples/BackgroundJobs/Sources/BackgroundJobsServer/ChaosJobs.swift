import BackgroundJobs
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The job types of the fault suite (`scripts/chaos`), registered only with `--chaos-jobs`. Each one counts
/// its own runs in Redis, in the hash ``runsKey(prefix:)`` (job id → runs), before it does anything else:
/// the suite reads that hash to tell how often each job's body really ran.
///
/// - `chaos_count` {ms?}: counts, then sleeps `ms` (cancellably).
/// - `chaos_hang` {ms, block?}: counts, then hangs for `ms` ignoring cancellation: by awaiting a wake-up
///   that no cancel reaches, or with `block` by blocking its thread.
/// - `chaos_crash` {}: counts, then stops the process with `fatalError`, every time: a poison pill.
public enum ChaosJobs {
    struct Count: Codable, Sendable { var ms: Int? }
    struct Hang: Codable, Sendable { var ms: Int; var block: Bool? }
    struct Crash: Codable, Sendable {}

    /// The hash of run counts by job id, under the system's key prefix.
    public static func runsKey(prefix: String) -> String { "\(prefix):chaos:runs" }

    /// Registers the three job types; they count their runs through a Redis client of their own, made from
    /// `configuration`, so the pool's connections carry only the pool's traffic.
    public static func register(into registry: inout JobRegistry, configuration: JobSystemConfiguration, logger: Logger) throws {
        let client = try RedisClient(url: configuration.redis.effectiveURL, logger: logger)
        let runs = runsKey(prefix: configuration.redis.keyPrefix)
        @Sendable func count(_ context: JobContext) async throws {
            _ = try await client.send("HINCRBY", runs, context.job.id.rawValue, 1)
        }
        registry.register(JobDefinition<Count>("chaos_count")) { input, context in
            try await count(context)
            if let ms = input.ms, ms > 0 { try await Task.sleep(for: .milliseconds(ms)) }
        }
        registry.register(JobDefinition<Hang>("chaos_hang")) { input, context in
            try await count(context)
            let ms = max(0, input.ms)
            if input.block ?? false {
                // Blocks whatever thread runs it, as a handler stuck in a synchronous call would.
                let end = Date().addingTimeInterval(Double(ms) / 1000)
                while Date() < end { usleep(10_000) }
            } else {
                // A wake-up no cancel reaches: the handler goes on after its timeout and after a shutdown.
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) { continuation.resume() }
                }
            }
        }
        registry.register(JobDefinition<Crash>("chaos_crash")) { _, context in
            try await count(context)
            fatalError("chaos_crash stops its process on purpose (job \(context.job.id))")
        }
    }
}

import BackgroundJobsRedis

extension SharedRedis {
    /// Runs `body` with a job queue under a key prefix of its own on the shared server, and deletes those
    /// keys afterwards.
    static func withQueue(
        configure: (inout RedisConfiguration) -> Void = { _ in },
        _ body: (RedisJobQueue, RedisClient, RedisKeys) async throws -> Void
    ) async throws {
        try await withClient(configure: configure) { client, prefix in
            let keys = try RedisKeys(prefix: String(prefix.dropLast()))
            let queue = RedisJobQueue(client: client, configuration: try .init(keys: keys), logger: logger)
            try await body(queue, client, keys)
        }
    }
}

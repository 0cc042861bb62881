import BackgroundJobsRedis
import Foundation
import Logging
import Testing

/// The redis-server `make test` started (or the one `REDIS_URL` names), shared by tests that each keep
/// to a key prefix of their own.
enum SharedRedis {
    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["REDIS_URL"], !url.isEmpty else {
            throw TestSetupError("REDIS_URL is not set: run the tests with `make test`, which starts a redis-server")
        }
        return url
    }

    static var logger: Logger {
        var logger = Logger(label: "test.redis")
        logger.logLevel = .warning
        return logger
    }

    /// Runs `body` with a client of the shared server and a fresh key prefix, and deletes the prefix's
    /// keys and closes the client afterwards, also when `body` throws.
    static func withClient<Result>(
        configure: (inout RedisConfiguration) -> Void = { _ in },
        _ body: (RedisClient, String) async throws -> Result
    ) async throws -> Result {
        var configuration = try RedisConfiguration(url: url())
        configure(&configuration)
        let client = RedisClient(configuration: configuration, logger: logger)
        let prefix = "test:\(UUID().uuidString):"
        do {
            let result = try await body(client, prefix)
            try await deleteKeys(prefix: prefix, client: client)
            await client.close()
            return result
        } catch {
            try? await deleteKeys(prefix: prefix, client: client)
            await client.close()
            throw error
        }
    }

    static func deleteKeys(prefix: String, client: RedisClient) async throws {
        var cursor = "0"
        repeat {
            let reply = try await client.send("SCAN", cursor, "MATCH", "\(prefix)*", "COUNT", 1000)
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array else {
                throw TestSetupError("unexpected SCAN reply \(reply)")
            }
            cursor = next
            let names = keys.compactMap(\.bytes)
            if !names.isEmpty { _ = try await client.send(RedisCommand("DEL", arguments: names)) }
        } while cursor != "0"
    }
}

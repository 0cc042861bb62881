import BackgroundJobsRedis
import Testing

@Suite("Redis client authentication", .timeLimit(.minutes(2)))
struct RedisClientAuthTests {
    @Test("AUTH with the password in the URL, and SELECT of the database")
    func passwordAndDatabase() async throws {
        let server = try await TestRedisServer(arguments: ["--requirepass", "s3cret:p@ss"])
        let client = try RedisClient(url: "redis://:s3cret%3Ap%40ss@127.0.0.1:\(server.port)/3", logger: SharedRedis.logger)
        _ = try await client.send("SET", "in-db-3", "yes")
        #expect(try await client.send("CLIENT", "INFO").string?.contains(" db=3 ") == true)
        await client.close()
        try await server.stop()
    }

    @Test("AUTH as an ACL user")
    func aclUser() async throws {
        let server = try await TestRedisServer(arguments: ["--requirepass", "admin"])
        let admin = try RedisClient(url: "redis://:admin@127.0.0.1:\(server.port)", logger: SharedRedis.logger)
        _ = try await admin.send("ACL", "SETUSER", "worker", "on", ">worker-pw", "~jobs:*", "+@all")
        await admin.close()

        let worker = try RedisClient(url: "redis://worker:worker-pw@127.0.0.1:\(server.port)", logger: SharedRedis.logger)
        #expect(try await worker.send("ACL", "WHOAMI").string == "worker")
        _ = try await worker.send("SET", "jobs:x", "1")
        let denied = try await #require(throws: RedisError.self) { try await worker.send("SET", "other", "1") }
        #expect(denied.serverErrorPrefix == "NOPERM")
        await worker.close()
        try await server.stop()
    }

    @Test("a wrong password fails at once with a clear authentication error")
    func wrongPassword() async throws {
        let server = try await TestRedisServer(arguments: ["--requirepass", "right"])
        let client = try RedisClient(url: "redis://:not-the-password-42@127.0.0.1:\(server.port)", logger: SharedRedis.logger)
        let started = ContinuousClock.now
        let error = try await #require(throws: RedisError.self) { try await client.send("PING") }
        #expect(error.code == .authenticationFailed)
        #expect(error.message.contains("AUTH"))
        #expect(error.message.contains("127.0.0.1:\(server.port)"))
        #expect(!error.description.contains("not-the-password-42"), "the password must not appear in the error")
        #expect(ContinuousClock.now - started < client.configuration.commandTimeout, "it does not wait for the command timeout")
        await client.close()
        try await server.stop()
    }

    @Test("no password against a server that requires one is a clear error")
    func missingPassword() async throws {
        let server = try await TestRedisServer(arguments: ["--requirepass", "right"])
        let client = try RedisClient(url: "redis://127.0.0.1:\(server.port)", logger: SharedRedis.logger)
        let error = try await #require(throws: RedisError.self) { try await client.send("PING") }
        #expect(error.serverErrorPrefix == "NOAUTH")
        await client.close()
        try await server.stop()
    }
}

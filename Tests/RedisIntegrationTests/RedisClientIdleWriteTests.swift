@testable import BackgroundJobsRedis
import Synchronization
import Testing

/// A command sent to a connection whose thread waits idle is written by its sender (see
/// `RedisConnectionCore.writeIdle`); these tests send only once the thread waits, so they take that path.
@Suite("Redis client: commands written on an idle connection", .timeLimit(.minutes(2)))
struct RedisClientIdleWriteTests {
    @Test("a command larger than the socket takes at once goes out whole, ahead of the command behind it")
    func shortWrite() async throws {
        try await SharedRedis.withClient { client, prefix in
            // 16 MB: far more than one write on a socket takes, so the sender's write is short and the
            // connection's thread writes the rest, then the GET queued behind it. A block of an odd length
            // repeated makes any byte out of place show.
            var generator = SystemRandomNumberGenerator()
            let block = (0..<65_537).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let value = Array(repeatElement(block, count: 256).joined())
            let reply = try await client.withBlockingConnection { connection in
                #expect(try await connection.send("PING") == .simpleString("PONG"))
                try await waitUntilIdle(connection)
                return try await connection.send(RedisCommand("GET", prefix + "huge"), after: RedisCommand("SET", prefix + "huge", value))
            }
            #expect(reply == .bulkString(value))
            #expect(try await client.send("STRLEN", prefix + "huge") == .integer(value.count))
        }
    }

    @Test("commands from many tasks on an idle connection each get their own reply")
    func concurrentSenders() async throws {
        try await SharedRedis.withClient { client, prefix in
            try await client.withBlockingConnection { connection in
                for round in 0..<20 {
                    #expect(try await connection.send("PING") == .simpleString("PONG"))
                    try await waitUntilIdle(connection)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for task in 0..<8 {
                            group.addTask {
                                let token = "\(round)-\(task)"
                                #expect(try await connection.send("ECHO", token).string == token)
                                _ = try await connection.send("INCR", prefix + "count")
                            }
                        }
                        try await group.waitForAll()
                    }
                }
            }
            #expect(try await client.send("GET", prefix + "count").string == "160")
        }
    }

    @Test("a command written on an idle connection whose reply does not come fails at the reply timeout")
    func replyTimeout() async throws {
        let server = try await TestRedisServer()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.commandTimeout = .milliseconds(300)
        configuration.blockingTimeout = .milliseconds(200)
        let client = RedisClient(configuration: configuration, logger: SharedRedis.logger)
        let admin = try RedisClient(url: server.url, logger: SharedRedis.logger)
        try await client.withBlockingConnection { connection in
            #expect(try await connection.send("PING") == .simpleString("PONG"))
            try await waitUntilIdle(connection)
            // A pause far past the 0.5 s reply timeout, so a loaded machine's delays do not blur the two.
            _ = try await admin.send("CLIENT", "PAUSE", 6000, "ALL")
            let started = ContinuousClock.now
            let error = try await #require(throws: RedisError.self) { try await connection.send("SET", "k", "v") }
            #expect(error.code == .timeout)
            #expect(error.outcomeUnknown)
            #expect(ContinuousClock.now - started < .seconds(4), "it fails at the reply timeout, not when the pause ends")
        }
        await client.close()
        await admin.close()
        try await server.stop()
    }

    @Test("a command sent right after the server closed an idle connection goes out on a new one")
    func closedWhileIdle() async throws {
        try await SharedRedis.withClient { client, _ in
            let admin = RedisClient(configuration: try RedisConfiguration(url: SharedRedis.url()), logger: SharedRedis.logger)
            try await client.withBlockingConnection { connection in
                // The thread, woken by the close, races the PING; over 20 rounds an unchecked write into the
                // closed socket loses that race now and then, and the PING fails as connection lost.
                for _ in 0..<20 {
                    let id = try #require(try await connection.send("CLIENT", "ID").int)
                    try await waitUntilIdle(connection)
                    #expect(try await admin.send("CLIENT", "KILL", "ID", id) == .integer(1))
                    #expect(try await connection.send("PING") == .simpleString("PONG"))
                }
            }
            await admin.close()
        }
    }

    /// Waits until the connection's thread waits idle, its socket open to senders' writes.
    private func waitUntilIdle(_ connection: RedisConnection) async throws {
        try await waitUntil("the connection's thread waits idle") { connection.core.state.withLock { $0.idleSocket >= 0 } }
    }
}

import BackgroundJobsRedis
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Redis client recovery", .timeLimit(.minutes(2)))
struct RedisClientRecoveryTests {
    @Test("after CLIENT KILL of its connection, the client reconnects and later commands succeed")
    func clientKill() async throws {
        try await SharedRedis.withClient(configure: { $0.clientName = "kill-me-\(UUID().uuidString.prefix(8))" }) { client, prefix in
            _ = try await client.send("SET", prefix + "k", "1")
            let killer = RedisClient(configuration: try RedisConfiguration(url: SharedRedis.url()), logger: SharedRedis.logger)
            let name = client.configuration.clientName!
            let victimID = try await #require(Self.clientID(named: name, using: killer))
            #expect(try await killer.send("CLIENT", "KILL", "ID", victimID) == .integer(1))
            await killer.close()

            #expect(try await client.send("GET", prefix + "k").string == "1")
            let newID = try await client.send("CLIENT", "ID").int
            #expect(newID != victimID)
        }
    }

    @Test("a command in flight when its connection is killed fails as connection lost, and the next succeeds")
    func killInFlight() async throws {
        try await SharedRedis.withClient(configure: { $0.clientName = "blocked-\(UUID().uuidString.prefix(8))" }) { client, prefix in
            let killer = RedisClient(configuration: try RedisConfiguration(url: SharedRedis.url()), logger: SharedRedis.logger)
            let name = client.configuration.clientName!
            try await client.withBlockingConnection { connection in
                let blocked = Task { try await connection.send("BLPOP", prefix + "never", 2) }
                var victimID: Int?
                try await waitUntil("the BLPOP is blocked") {
                    victimID = try await Self.clientID(named: name, using: killer, blockedOnly: true)
                    return victimID != nil
                }
                _ = try await killer.send("CLIENT", "KILL", "ID", victimID!)
                let error = try await #require(throws: RedisError.self) { try await blocked.value }
                #expect(error.code == .connectionLost)
                #expect(error.outcomeUnknown)
                #expect(try await connection.send("PING") == .simpleString("PONG"))
            }
            await killer.close()
        }
    }

    @Test("after a redis-server restart on the same port, in-flight commands fail clearly and later ones succeed")
    func serverRestart() async throws {
        let server = try await TestRedisServer()
        let client = RedisClient(configuration: try RedisConfiguration(url: server.url), logger: SharedRedis.logger)
        defer { Task { await client.close() } }
        _ = try await client.send("SET", "before", "1")

        // Writers keep the pipelined connection busy while the server dies, so writes hit a closed
        // socket: the process must see EPIPE, not die of SIGPIPE.
        let payload = [UInt8](repeating: 7, count: 64 * 1024)
        let writers = Task { () -> [RedisError] in
            await withTaskGroup(of: [RedisError].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var errors: [RedisError] = []
                        for index in 0..<200 {
                            do throws(RedisError) { _ = try await client.send("SET", "w\(index)", payload) } catch { errors.append(error) }
                        }
                        return errors
                    }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
        }
        let blocked = Task {
            try await client.withBlockingConnection { try await $0.send("BLPOP", "never", 2) }
        }
        try await waitUntil("the BLPOP is blocked") {
            let clients = try await client.send("INFO", "clients").string ?? ""
            return !clients.contains("blocked_clients:0")
        }
        try await server.restart(signal: SIGKILL)

        let blockedError = try await #require(throws: RedisError.self) { try await blocked.value }
        #expect(blockedError.code == .connectionLost)
        #expect(blockedError.message.contains("127.0.0.1:\(server.port)"))
        for error in await writers.value {
            #expect([RedisError.Code.connectionLost, .connectionFailed, .timeout].contains(error.code), "unexpected \(error)")
        }

        #expect(try await client.send("PING") == .simpleString("PONG"))
        #expect(try await client.send("GET", "before") == .null, "the restarted server has no persistence")
        #expect(try await client.withBlockingConnection { try await $0.send("PING") } == .simpleString("PONG"))
        try await server.stop()
    }

    @Test("a refused connection fails unsent, naming host and port")
    func connectionRefused() async throws {
        let server = try await TestRedisServer()
        let port = server.port
        try await server.stop()
        let configuration = try RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: port), commandTimeout: .milliseconds(300))
        let client = RedisClient(configuration: configuration, logger: SharedRedis.logger)
        let error = try await #require(throws: RedisError.self) { try await client.send("PING") }
        #expect(error.code == .connectionFailed)
        #expect(!error.outcomeUnknown)
        #expect(error.message.contains("127.0.0.1:\(port)"))
        #expect(error.message.localizedCaseInsensitiveContains("refused"))
        await client.close()
    }

    @Test("once Redis has been unreachable for a command timeout, new commands fail at the next connect attempt, and succeed when it is back")
    func failsFastInAnOutage() async throws {
        let server = try await TestRedisServer()
        var configuration = try RedisConfiguration(url: server.url)
        // Long enough that a loaded machine's delays (up to 2 s seen in a full parallel run) do not blur the
        // whole timeout with a single connect attempt.
        configuration.commandTimeout = .seconds(5)
        configuration.maximumReconnectDelay = .milliseconds(50)
        let client = RedisClient(configuration: configuration, logger: SharedRedis.logger)
        _ = try await client.send("PING")
        try await server.stop()

        // The first command rides out the start of the outage for the whole command timeout.
        let clock = ContinuousClock()
        var started = clock.now
        let first = try await #require(throws: RedisError.self) { try await client.send("PING") }
        #expect(clock.now - started >= .milliseconds(4900))
        #expect(first.message.contains("PING was not sent while Redis has been unreachable for 4.") || first.message.contains("unreachable for 5."))

        // Now the outage is older than the timeout: the next command waits for one attempt only.
        started = clock.now
        let later = try await #require(throws: RedisError.self) { try await client.send("PING") }
        #expect(clock.now - started < .milliseconds(2500))
        #expect(later.code == .connectionFailed)
        #expect(later.message.contains("PING was not sent while Redis has been unreachable for"))
        #expect(later.message.localizedCaseInsensitiveContains("refused"))

        try await server.start()
        #expect(try await client.send("PING") == .simpleString("PONG"))
        await client.close()
        try await server.stop()
    }

    @Test("a command queued while Redis is briefly down waits for the reconnect and succeeds")
    func waitsForReconnect() async throws {
        let server = try await TestRedisServer()
        let client = RedisClient(configuration: try RedisConfiguration(url: server.url), logger: SharedRedis.logger)
        _ = try await client.send("PING")
        try await server.stop()
        let reply = Task { try await client.send("PING") }
        try await server.start()
        #expect(try await reply.value == .simpleString("PONG"))
        await client.close()
        try await server.stop()
    }

    @Test("a command without a reply in time fails as a timeout, and the connection recovers")
    func commandTimeout() async throws {
        let server = try await TestRedisServer()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.commandTimeout = .milliseconds(300)
        let client = RedisClient(configuration: configuration, logger: SharedRedis.logger)
        let admin = try RedisClient(url: server.url, logger: SharedRedis.logger)
        _ = try await client.send("PING")
        // A pause far past the timeout, so a loaded machine's delays do not blur the two.
        _ = try await admin.send("CLIENT", "PAUSE", 6000, "ALL")

        let started = ContinuousClock.now
        let error = try await #require(throws: RedisError.self) { try await client.send("SET", "k", "v") }
        #expect(error.code == .timeout)
        #expect(error.outcomeUnknown)
        #expect(ContinuousClock.now - started < .seconds(4), "it fails at the command timeout, not when the pause ends")

        try await waitUntil("the paused server answers again", timeout: .seconds(30)) {
            (try? await client.send("PING")) == .simpleString("PONG")
        }
        await client.close()
        await admin.close()
        try await server.stop()
    }

    @Test("a unix socket URL connects")
    func unixSocket() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bj-sock-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let socket = directory.appendingPathComponent("redis.sock").path
        let server = try await TestRedisServer(arguments: ["--unixsocket", socket, "--unixsocketperm", "700"])
        let client = try RedisClient(url: "unix://\(socket)?db=2", logger: SharedRedis.logger)
        #expect(try await client.send("PING") == .simpleString("PONG"))
        #expect(try await client.send("CLIENT", "INFO").string?.contains(" db=2 ") == true)
        await client.close()
        try await server.stop()
    }

    @Test("a closed client rejects new commands as never sent")
    func closedClient() async throws {
        let client = RedisClient(configuration: try RedisConfiguration(url: SharedRedis.url()), logger: SharedRedis.logger)
        _ = try await client.send("PING")
        await client.close()
        let error = try await #require(throws: RedisError.self) { try await client.send("PING") }
        #expect(error.code == .clientClosed)
    }

    static func clientID(named name: String, using client: RedisClient, blockedOnly: Bool = false) async throws -> Int? {
        let list = try await client.send("CLIENT", "LIST").string ?? ""
        for line in list.split(separator: "\n") where line.contains(" name=\(name) ") {
            if blockedOnly && !line.contains("cmd=blpop") { continue }
            let fields = line.split(separator: " ")
            if let id = fields.first(where: { $0.hasPrefix("id=") }) { return Int(id.dropFirst(3)) }
        }
        return nil
    }
}

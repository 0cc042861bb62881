import BackgroundJobsRedis
import Testing

@Suite("Redis URLs")
struct RedisConfigurationURLTests {
    @Test("host, port and database")
    func hostPortDatabase() throws {
        let configuration = try RedisConfiguration(url: "redis://redis.internal:6380/2")
        #expect(configuration.endpoint == .tcp(host: "redis.internal", port: 6380))
        #expect(configuration.database == 2)
        #expect(configuration.username == nil)
        #expect(configuration.password == nil)
    }

    @Test("the default port is 6379 and the default database 0")
    func defaults() throws {
        let configuration = try RedisConfiguration(url: "redis://localhost")
        #expect(configuration.endpoint == .tcp(host: "localhost", port: 6379))
        #expect(configuration.database == 0)
    }

    @Test("password alone, and user with password, percent-decoded")
    func credentials() throws {
        let passwordOnly = try RedisConfiguration(url: "redis://:p%40ss%3Aword@h:1")
        #expect(passwordOnly.username == nil)
        #expect(passwordOnly.password == "p@ss:word")

        let legacy = try RedisConfiguration(url: "redis://secret@h")
        #expect(legacy.password == "secret")

        let acl = try RedisConfiguration(url: "redis://worker:pw@h:7/1")
        #expect(acl.username == "worker")
        #expect(acl.password == "pw")
        #expect(acl.database == 1)
    }

    @Test("IPv6 hosts in brackets")
    func ipv6() throws {
        let configuration = try RedisConfiguration(url: "redis://[::1]:6390")
        #expect(configuration.endpoint == .tcp(host: "::1", port: 6390))
        #expect(configuration.endpoint.description == "[::1]:6390")
    }

    @Test("unix sockets, with a database as query")
    func unixSocket() throws {
        let configuration = try RedisConfiguration(url: "unix:///run/redis/redis.sock?db=4")
        #expect(configuration.endpoint == .unixSocket(path: "/run/redis/redis.sock"))
        #expect(configuration.database == 4)
    }

    @Test(
        "malformed URLs are refused with a reason and without echoing the password",
        arguments: [
            "localhost:6379", "http://h", "redis://", "redis://h:0", "redis://h:99999", "redis://h:port",
            "redis://h/db", "redis://h/-1", "unix://relative.sock", "redis://:pw%zz@h", "rediss://h",
            "redis://[::1", "redis://h?timeout=1",
        ])
    func malformed(url: String) {
        #expect {
            try RedisConfiguration(url: url)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .invalidConfiguration && error.message.hasPrefix("the Redis URL is not valid")
                && !error.description.contains("pw")
        }
    }

    @Test("invalid settings are refused when the configuration is built")
    func validation() {
        #expect(throws: RedisError.self) { try RedisConfiguration(database: -1) }
        #expect(throws: RedisError.self) { try RedisConfiguration(commandTimeout: .zero) }
        #expect(throws: RedisError.self) { try RedisConfiguration(clientName: "two words") }
        #expect(throws: RedisError.self) { try RedisConfiguration(clientName: "name\r\nFLUSHALL") }
        #expect(throws: RedisError.self) { try RedisConfiguration(connectionCount: 0) }
    }
}

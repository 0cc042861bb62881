public import BackgroundJobsRedis
public import Foundation

/// An example ``CleanupStore`` over Redis keys, for applications that keep their sessions and users in
/// Redis (or as a model for one over their database). Sessions carry a Redis TTL of their own, so an
/// expired session's hash is gone by itself; what lingers is its index entry and its place in the user's
/// session set, which cleanup removes.
///
/// Keys, under `prefix` (by default `app`; `{app}` keeps them in one Cluster slot, which the scripts
/// need there):
///
/// | key | type | holds |
/// |---|---|---|
/// | `<prefix>:session:<id>` | hash, TTL = expiry | `user`, `seen` (ms) |
/// | `<prefix>:sessions` | sorted set | session id → expiry (ms) |
/// | `<prefix>:session-users` | hash | session id → user id (outlives the session's hash, so cleanup still knows whose it was) |
/// | `<prefix>:user:<id>` | hash | `created`, `seen` (ms), `verified` (0/1), `deleted` (ms, when softly deleted) |
/// | `<prefix>:user:<id>:sessions` | set | the user's session ids |
/// | `<prefix>:users:seen` | sorted set | user id → last seen (ms) |
/// | `<prefix>:users:unverified` | sorted set | user id → created (ms), until verified |
/// | `<prefix>:users:deleted` | sorted set | user id → deleted (ms) |
public struct RedisCleanupStore: CleanupStore {
    let client: RedisClient
    let keys: Keys

    /// The store's keys, built in this one place; ``lua`` gives the scripts the same builders.
    struct Keys: Sendable {
        let prefix: String
        func session(_ id: String) -> String { "\(prefix):session:\(id)" }
        var sessions: String { "\(prefix):sessions" }
        var sessionUsers: String { "\(prefix):session-users" }
        func user(_ id: String) -> String { "\(prefix):user:\(id)" }
        func userSessions(_ id: String) -> String { "\(prefix):user:\(id):sessions" }
        var usersSeen: String { "\(prefix):users:seen" }
        var usersUnverified: String { "\(prefix):users:unverified" }
        var usersDeleted: String { "\(prefix):users:deleted" }

        /// The builders for keys a script discovers, from the prefix in `ARGV[1]`: the Swift ones above,
        /// applied to marker characters that stand for the prefix and the id, so both build the same text.
        static let lua: String = {
            let keys = Keys(prefix: "\u{1}")
            func builder(_ name: String, _ template: String) -> String {
                let parts = template.split(separator: "\u{2}", omittingEmptySubsequences: false).map {
                    $0.replacingOccurrences(of: "\u{1}", with: "")
                }
                return "local function \(name)(id) return ARGV[1] .. '\(parts[0])' .. id .. '\(parts[1])' end\n"
            }
            return builder("sessionKey", keys.session("\u{2}")) + builder("userKey", keys.user("\u{2}"))
                + builder("userSessionsKey", keys.userSessions("\u{2}"))
        }()
    }

    /// A store on `client` under `prefix`.
    public init(client: RedisClient, prefix: String = "app") {
        self.client = client
        self.keys = Keys(prefix: prefix)
    }

    // MARK: What the application does (kept here so the example is complete)

    /// Stores a session of `user` that expires at `expiresAt`.
    public func saveSession(_ id: String, user: String, expiresAt: Date, seen: Date = Date()) async throws {
        _ = try await client.run(
            Self.saveSession, keys: [keys.session(id), keys.sessions, keys.userSessions(user), keys.sessionUsers],
            arguments: [id, user, Self.ms(expiresAt), Self.ms(seen)])
    }

    /// Stores a user; `deleted` marks one softly deleted.
    public func saveUser(_ id: String, created: Date, seen: Date, verified: Bool, deleted: Date? = nil) async throws {
        _ = try await client.run(
            Self.saveUser, keys: [keys.user(id), keys.usersSeen, keys.usersUnverified, keys.usersDeleted],
            arguments: [id, Self.ms(created), Self.ms(seen), verified ? 1 : 0, deleted.map(Self.ms) ?? 0])
    }

    // MARK: CleanupStore

    public func expiredSessions(at now: Date, limit: Int) async throws -> [String] {
        try await ids(client.send("ZRANGE", keys.sessions, "-inf", "(\(Self.ms(now))", "BYSCORE", "LIMIT", 0, limit))
    }

    public func orphanedSessions(idleSince: Date, limit: Int) async throws -> [String] {
        try await ids(client.run(Self.orphans, keys: [keys.sessions, keys.sessionUsers], arguments: [keys.prefix, Self.ms(idleSince), limit]))
    }

    public func deleteSessions(_ ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await client.run(Self.deleteSessions, keys: [keys.sessions, keys.sessionUsers], arguments: [keys.prefix] + ids).int ?? 0
    }

    public func usersInactive(since date: Date, limit: Int) async throws -> [String] {
        try await ids(client.send("ZRANGE", keys.usersSeen, "-inf", "(\(Self.ms(date))", "BYSCORE", "LIMIT", 0, limit))
    }

    public func usersUnverified(createdBefore date: Date, limit: Int) async throws -> [String] {
        try await ids(client.send("ZRANGE", keys.usersUnverified, "-inf", "(\(Self.ms(date))", "BYSCORE", "LIMIT", 0, limit))
    }

    public func usersDeleted(before date: Date, limit: Int) async throws -> [String] {
        try await ids(client.send("ZRANGE", keys.usersDeleted, "-inf", "(\(Self.ms(date))", "BYSCORE", "LIMIT", 0, limit))
    }

    public func deleteUsers(_ ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await client.run(
            Self.deleteUsers, keys: [keys.sessions, keys.usersSeen, keys.usersUnverified, keys.usersDeleted, keys.sessionUsers],
            arguments: [keys.prefix] + ids
        ).int ?? 0
    }

    private func ids(_ reply: RedisValue) -> [String] {
        reply.array?.compactMap(\.string) ?? []
    }

    private static func ms(_ date: Date) -> Int { Int((date.timeIntervalSince1970 * 1000).rounded()) }

    // MARK: Scripts: each change of several keys is one script

    /// KEYS: session hash, sessions index, user's session set, session-user map; ARGV: id, user, expires ms, seen ms
    static let saveSession = RedisScript(
        """
        redis.call('HSET', KEYS[1], 'user', ARGV[2], 'seen', ARGV[4])
        redis.call('PEXPIREAT', KEYS[1], ARGV[3])
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
        redis.call('SADD', KEYS[3], ARGV[1])
        redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
        return 1
        """)

    /// KEYS: user hash, seen index, unverified index, deleted index; ARGV: id, created, seen, verified, deleted (0 = not)
    static let saveUser = RedisScript(
        """
        redis.call('HSET', KEYS[1], 'created', ARGV[2], 'seen', ARGV[3], 'verified', ARGV[4])
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
        if ARGV[4] == '1' then redis.call('ZREM', KEYS[3], ARGV[1]) else redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1]) end
        if ARGV[5] ~= '0' then
          redis.call('HSET', KEYS[1], 'deleted', ARGV[5])
          redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
        else
          redis.call('HDEL', KEYS[1], 'deleted')
          redis.call('ZREM', KEYS[4], ARGV[1])
        end
        return 1
        """)

    /// Sessions idle since before ARGV[2] whose user hash is gone. KEYS: sessions index, session-user map;
    /// ARGV: prefix, idle ms, limit
    static let orphans = RedisScript(
        Keys.lua + """
        local found = {}
        local limit = tonumber(ARGV[3])
        local cursor = 0
        while #found < limit do
          local ids = redis.call('ZRANGE', KEYS[1], cursor, cursor + 499)
          if #ids == 0 then break end
          for _, id in ipairs(ids) do
            local user = redis.call('HGET', KEYS[2], id)
            local seen = tonumber(redis.call('HGET', sessionKey(id), 'seen') or '0')
            if user and seen < tonumber(ARGV[2]) and redis.call('EXISTS', userKey(user)) == 0 then
              found[#found + 1] = id
              if #found >= limit then break end
            end
          end
          cursor = cursor + 500
        end
        return found
        """)

    /// KEYS: sessions index, session-user map; ARGV: prefix, ids... Returns how many sessions were removed.
    /// The session's hash may be gone already (its TTL): its user comes from the map.
    static let deleteSessions = RedisScript(
        Keys.lua + """
        local removed = 0
        for i = 2, #ARGV do
          local user = redis.call('HGET', KEYS[2], ARGV[i])
          if user then redis.call('SREM', userSessionsKey(user), ARGV[i]) end
          redis.call('HDEL', KEYS[2], ARGV[i])
          redis.call('DEL', sessionKey(ARGV[i]))
          removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
        end
        return removed
        """)

    /// KEYS: sessions index, seen, unverified, deleted indexes, session-user map; ARGV: prefix, ids...
    /// Returns how many users were removed.
    static let deleteUsers = RedisScript(
        Keys.lua + """
        local removed = 0
        for i = 2, #ARGV do
          local id = ARGV[i]
          local sessionSet = userSessionsKey(id)
          for _, session in ipairs(redis.call('SMEMBERS', sessionSet)) do
            redis.call('DEL', sessionKey(session))
            redis.call('ZREM', KEYS[1], session)
            redis.call('HDEL', KEYS[5], session)
          end
          redis.call('DEL', sessionSet)
          removed = removed + redis.call('DEL', userKey(id))
          redis.call('ZREM', KEYS[2], id)
          redis.call('ZREM', KEYS[3], id)
          redis.call('ZREM', KEYS[4], id)
        end
        return removed
        """)
}

public import BackgroundJobsCore
public import BackgroundJobsDomain
public import Foundation
public import Logging

/// The ``Scheduler`` on Redis: definitions in one hash, next firings in a sorted set, and the last claimed
/// firing of each job in a hash that the claim script checks and moves in one step.
public struct RedisScheduler: Scheduler {
    let client: RedisClient
    let keys: RedisKeys
    let logger: Logger

    /// A scheduler on `client`, with the keys of the job queue it submits to.
    public init(client: RedisClient, keys: RedisKeys, logger: Logger) {
        self.client = client
        self.keys = keys
        self.logger = logger
    }

    /// How a definition is stored: JSON, so that operators can read it with `HGET`.
    struct Stored: Codable {
        var schedule: String
        var timeZone: String
        var name: String
        var payload: String
        var queue: String
        var priority: String
        var maxRetries: Int?
        var timeoutMilliseconds: Int64?
        var missedRuns: RecurringJob.MissedRuns

        init(_ job: RecurringJob) {
            schedule = job.schedule.expression
            timeZone = job.schedule.timeZone.identifier
            name = job.name.rawValue
            payload = String(decoding: job.payload, as: UTF8.self)
            queue = job.options.queue.rawValue
            priority = job.options.priority.rawValue
            maxRetries = job.options.maxRetries
            timeoutMilliseconds = job.options.timeout.map { Int64($0.timeInterval * 1000) }
            missedRuns = job.missedRuns
        }

        func job(id: String) throws -> RecurringJob {
            guard let priority = JobPriority(rawValue: priority) else {
                throw JobError(.invalidOptions, "the stored priority \(priority) is not known")
            }
            let options = JobOptions(
                queue: try QueueName(queue), priority: priority, maxRetries: maxRetries,
                timeout: timeoutMilliseconds.map { .milliseconds($0) })
            return try RecurringJob(
                id: id, schedule: try Schedule(schedule, timeZone: timeZone), name: try JobName(name),
                payload: Array(payload.utf8), options: options, missedRuns: missedRuns)
        }
    }

    public func save(_ job: RecurringJob, nextFiring: Date?) async throws {
        let json = String(decoding: try JSONEncoder().encode(Stored(job)), as: UTF8.self)
        _ = try await client.run(
            Self.saveScript, keys: [keys.recurring, keys.recurringNext, keys.recurringPaused],
            arguments: [job.id, json, nextFiring.map(RedisJobCodec.milliseconds) ?? -1])
    }

    public func remove(_ id: String) async throws -> Bool {
        try await client.run(
            Self.removeScript, keys: [keys.recurring, keys.recurringNext, keys.recurringLast, keys.recurringPaused],
            arguments: [id]
        ).int == 1
    }

    public func setPaused(_ id: String, _ paused: Bool, nextFiring: Date?) async throws -> Bool {
        try await client.run(
            Self.pauseScript, keys: [keys.recurring, keys.recurringNext, keys.recurringPaused],
            arguments: [id, paused ? 1 : 0, nextFiring.map(RedisJobCodec.milliseconds) ?? -1]
        ).int == 1
    }

    public func all() async throws -> [RecurringJobState] {
        async let definitions = client.send("HGETALL", keys.recurring)
        async let next = client.send("ZRANGE", keys.recurringNext, 0, -1, "WITHSCORES")
        async let last = client.send("HGETALL", keys.recurringLast)
        async let paused = client.send("SMEMBERS", keys.recurringPaused)
        let nextByID = Self.pairs(try await next).mapValues(Self.date)
        let lastByID = Self.pairs(try await last).mapValues(Self.date)
        let pausedIDs = Set(try await paused.array?.compactMap(\.string) ?? [])
        return Self.pairs(try await definitions).sorted { $0.key < $1.key }.compactMap { id, json in
            guard let job = decode(id: id, json) else { return nil }
            return RecurringJobState(job: job, paused: pausedIDs.contains(id), nextFiring: nextByID[id] ?? nil, lastFiring: lastByID[id] ?? nil)
        }
    }

    public func due(now: Date, limit: Int) async throws -> [(job: RecurringJob, firing: Date)] {
        let reply = try await client.send(
            "ZRANGE", keys.recurringNext, "-inf", RedisJobCodec.milliseconds(now), "BYSCORE", "LIMIT", 0, max(1, limit), "WITHSCORES")
        let entries = Self.orderedPairs(reply)
        guard !entries.isEmpty else { return [] }
        let definitions = try await client.send(RedisCommand("HMGET", arguments: [keys.recurring] + entries.map(\.0)))
        return zip(entries, definitions.array ?? []).compactMap { entry, json in
            guard let json = json.string, let firing = Self.date(entry.1), let job = decode(id: entry.0, json) else { return nil }
            return (job, firing)
        }
    }

    public func nextFiring() async throws -> Date? {
        let reply = try await client.send("ZRANGE", keys.recurringNext, 0, 0, "WITHSCORES")
        return Self.orderedPairs(reply).first.flatMap { Self.date($0.1) }
    }

    public func claim(_ id: String, firing: Date, next: Date?, submission: Job?) async throws -> Bool {
        var scriptKeys: [any RedisArgument] = [keys.recurring, keys.recurringNext, keys.recurringLast, keys.recurringPaused]
        var arguments = RedisArguments()
        arguments.append(keys.prefix)
        arguments.append(id)
        arguments.append(RedisJobCodec.milliseconds(firing))
        arguments.append(next.map(RedisJobCodec.milliseconds) ?? -1)
        if let job = submission {
            scriptKeys.append(keys.data(job.id))
            arguments.append(job.id.rawValue)
            arguments.append(job.queue.rawValue)
            arguments.append(job.priority.rawValue)
            RedisJobCodec.appendFields(of: job, to: &arguments)
        }
        return try await client.run(Self.claimScript, keys: scriptKeys, arguments: arguments).int == 1
    }

    private func decode(id: String, _ json: String) -> RecurringJob? {
        do {
            return try JSONDecoder().decode(Stored.self, from: Data(json.utf8)).job(id: id)
        } catch {
            logger.warning("a stored recurring job cannot be read and is skipped", metadata: ["recurring.id": "\(id)", "error": "\(error)"])
            return nil
        }
    }

    private static func orderedPairs(_ reply: RedisValue) -> [(String, String)] {
        let items = reply.array ?? []
        return stride(from: 0, to: items.count - 1, by: 2).compactMap { index in
            guard let key = items[index].string, let value = items[index + 1].string else { return nil }
            return (key, value)
        }
    }

    private static func pairs(_ reply: RedisValue) -> [String: String] {
        Dictionary(orderedPairs(reply), uniquingKeysWith: { _, last in last })
    }

    private static func date(_ milliseconds: String) -> Date? {
        Double(milliseconds).map { Date(timeIntervalSince1970: $0 / 1000) }
    }
}

extension RedisScheduler {
    /// KEYS: definitions, next, paused. ARGV: id, JSON, next ms (-1 = none).
    static let saveScript = RedisScript(
        """
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        if ARGV[3] == '-1' or redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then
          redis.call('ZREM', KEYS[2], ARGV[1])
        else
          redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
        end
        return 1
        """)

    /// KEYS: definitions, next, last, paused. ARGV: id.
    static let removeScript = RedisScript(
        """
        local existed = redis.call('HDEL', KEYS[1], ARGV[1])
        redis.call('ZREM', KEYS[2], ARGV[1])
        redis.call('HDEL', KEYS[3], ARGV[1])
        redis.call('SREM', KEYS[4], ARGV[1])
        return existed
        """)

    /// KEYS: definitions, next, paused. ARGV: id, paused (1/0), next ms (-1 = none).
    static let pauseScript = RedisScript(
        """
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
        if ARGV[2] == '1' then
          redis.call('SADD', KEYS[3], ARGV[1])
          redis.call('ZREM', KEYS[2], ARGV[1])
        else
          redis.call('SREM', KEYS[3], ARGV[1])
          if ARGV[3] ~= '-1' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) end
        end
        return 1
        """)

    /// Claims one firing and submits its job. A firing at or before the last claimed one, a paused or
    /// removed job: nothing happens, so of many schedulers racing for a firing exactly one wins.
    ///
    /// KEYS: definitions, next, last, paused, [job hash]
    /// ARGV: prefix, id, firing ms, next ms (-1 = none), [job id, queue, priority, field/value pairs...]
    static let claimScript = RedisJobQueue.Scripts.script(
        """
        if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then return 0 end
        if redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 1 then return 0 end
        local last = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '-1')
        if last >= tonumber(ARGV[3]) then return 0 end
        redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
        if ARGV[4] == '-1' then
          redis.call('ZREM', KEYS[2], ARGV[2])
        else
          redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
        end
        if #ARGV > 4 then
          storeJob(ARGV[5], ARGV[6], ARGV[7], '0', 8, #ARGV)
          admitted(ARGV[6], 1, true)
        end
        return 1
        """)
}

public import BackgroundJobsCore
public import BackgroundJobsDomain

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// What happens to jobs as it happens: progress, the event stream, and trimming what has expired.
extension RedisJobQueue {
    public func setProgress(_ job: Job, by worker: WorkerID, percent: Int) async throws -> Bool {
        let reply = try await run(
            Scripts.progress, keys: [keys.data(job.id)],
            arguments: [keys.prefix, job.id.rawValue, worker.rawValue, min(100, max(0, percent))])
        return reply.int == 1
    }

    public func updatePayload(_ job: Job, by worker: WorkerID, payload: [UInt8]) async throws -> Bool {
        let reply = try await run(Scripts.updatePayload, keys: [keys.data(job.id)], arguments: [worker.rawValue, payload])
        return reply.int == 1
    }

    public func events(after cursor: String?, timeout: Duration) async throws -> (events: [JobEvent], cursor: String) {
        var position = cursor ?? ""
        if cursor == nil {
            // From now on: the newest entry's id, or the start of an empty stream.
            let last = try await send(RedisCommand("XREVRANGE", keys.events, "+", "-", "COUNT", 1))
            position = last.array?.first?.array?.first?.string ?? "0-0"
        }
        let milliseconds = max(1, Int(min(timeout, client.configuration.blockingTimeout).timeInterval * 1000))
        let arguments: [any RedisArgument] = ["COUNT", 500, "BLOCK", milliseconds, "STREAMS", keys.events, position]
        let reply: RedisValue
        do {
            reply = try await client.withBlockingConnection { connection in
                try await connection.send(RedisCommand("XREAD", arguments: arguments))
            }
        } catch let error as RedisError {
            throw queueError(error)
        }
        let entries = reply.array?.first?.array?.dropFirst().first?.array ?? []
        var events: [JobEvent] = []
        for entry in entries {
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { continue }
            position = id
            events += Self.events(id: id, fields: parts[1].array ?? [])
        }
        return (events, position)
    }

    public func sweep(now: Date, dryRun: Bool) async throws -> Int {
        let now = RedisJobCodec.milliseconds(now)
        let completedBefore = now - Int(configuration.completedRetention.timeInterval * 1000)
        let deadBefore = now - Int(configuration.deadRetention.timeInterval * 1000)
        var removed = 0
        for queue in try await queues() {
            for (index, before) in [(keys.completed(queue), completedBefore), (keys.cancelled(queue), completedBefore), (keys.dead(queue), deadBefore)] {
                let command = dryRun ? "ZCOUNT" : "ZREMRANGEBYSCORE"
                removed += try await send(RedisCommand(command, index, "-inf", "(\(before)")).int ?? 0
            }
        }
        return removed
    }

    /// The changes of one stream entry: a `changes` field of "id from to" lines, or one job's progress.
    private static func events(id: String, fields: [RedisValue]) -> [JobEvent] {
        var values: [String: String] = [:]
        for index in stride(from: 0, to: fields.count - 1, by: 2) {
            if let key = fields[index].string, let value = fields[index + 1].string { values[key] = value }
        }
        guard let milliseconds = id.split(separator: "-").first.flatMap({ Double($0) }) else { return [] }
        let at = Date(timeIntervalSince1970: milliseconds / 1000)
        if let rawJob = values["job"], let job = try? JobID(rawJob), let progress = values["progress"].flatMap({ Int($0) }) {
            return [JobEvent(cursor: id, job: job, change: .progress(progress), at: at)]
        }
        return (values["changes"] ?? "").split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, let job = try? JobID(String(parts[0])), let to = JobStatus(rawValue: String(parts[2])) else { return nil }
            return JobEvent(cursor: id, job: job, change: .status(from: JobStatus(rawValue: String(parts[1])), to: to), at: at)
        }
    }
}

extension RedisJobQueue.Scripts {
    /// Records a running job's progress, if the worker still holds it.
    ///
    /// KEYS: job hash
    /// ARGV: prefix, id, worker id, percent
    /// Returns 1, or 0 when the worker does not hold the job.
    static let progress = script(
        """
        local fields = redis.call('HMGET', KEYS[1], 's', 'w')
        if fields[1] ~= 'processing' or fields[2] ~= ARGV[3] then return 0 end
        redis.call('HSET', KEYS[1], 'g', ARGV[4])
        redis.call('XADD', K.events, 'MAXLEN', '~', 1000, '*', 'job', ARGV[2], 'progress', ARGV[4])
        return 1
        """)

    /// Replaces a running job's payload if the worker still holds it.
    ///
    /// KEYS: job hash
    /// ARGV: worker id, payload
    /// Returns 1, or 0 when the worker does not hold the job.
    static let updatePayload = RedisScript(
        """
        local fields = redis.call('HMGET', KEYS[1], '\(RedisJobCodec.Field.status)', '\(RedisJobCodec.Field.worker)')
        if fields[1] ~= 'processing' or fields[2] ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], '\(RedisJobCodec.Field.payload)', ARGV[2])
        return 1
        """)
}

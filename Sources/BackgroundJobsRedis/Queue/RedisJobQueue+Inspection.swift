public import BackgroundJobsCore
public import BackgroundJobsDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Looking into queues and managing them: counts from list lengths and counters, listings page by page,
/// pause, purge and retry of dead jobs.
extension RedisJobQueue {
    public func queues() async throws -> [QueueName] {
        let reply = try await send(RedisCommand("SMEMBERS", keys.queues))
        return (reply.array ?? []).compactMap { $0.string.flatMap { try? QueueName($0) } }.sorted()
    }

    public func counts(of queue: QueueName) async throws -> QueueCounts {
        let now = RedisJobCodec.milliseconds(Date())
        let completedSince = now - Int(configuration.completedRetention.timeInterval * 1000)
        let deadSince = now - Int(configuration.deadRetention.timeInterval * 1000)
        let reply = try await run(
            Scripts.counts,
            keys: keys.readyLists(queue) + [
                keys.counts(queue), keys.unfinished(queue), keys.completed(queue), keys.dead(queue), keys.cancelled(queue),
                keys.paused,
            ],
            arguments: [queue.rawValue, completedSince, deadSince])
        guard let values = reply.array?.compactMap(\.int), values.count == 11 else {
            throw JobQueueError(.corruptJob, "counts got an unexpected reply \(reply)")
        }
        let pending = Dictionary(uniqueKeysWithValues: zip(JobPriority.mostUrgentFirst, values[0..<4]))
        let waiting = values[4] + values[5]
        return QueueCounts(
            queue: queue, pending: pending, scheduled: values[4], retrying: values[5],
            processing: max(0, values[6] - pending.values.reduce(0, +) - waiting), completed: values[7], dead: values[8],
            cancelled: values[9], paused: values[10] == 1)
    }

    public func list(_ queue: QueueName, status: JobStatus, cursor: String?, limit: Int) async throws -> JobPage {
        let limit = max(1, limit)
        switch status {
        case .pending:
            return try await listPending(queue, cursor: cursor, limit: limit)
        case .scheduled, .failed:
            return try await listDelayed(queue, status: status, cursor: cursor, limit: limit)
        case .processing:
            return try await listProcessing(queue, cursor: cursor, limit: limit)
        case .completed:
            return try await listIndex(keys.completed(queue), cursor: cursor, limit: limit)
        case .dead:
            return try await listIndex(keys.dead(queue), cursor: cursor, limit: limit)
        case .cancelled:
            return try await listIndex(keys.cancelled(queue), cursor: cursor, limit: limit)
        }
    }

    public func setPaused(_ queue: QueueName, _ paused: Bool) async throws {
        _ = try await run(Scripts.setPaused, keys: [keys.paused, keys.wake(queue)], arguments: [queue.rawValue, paused ? 1 : 0])
    }

    public func purge(_ queue: QueueName) async throws -> Int {
        var removed = 0
        // Ready lists: the script empties them in batches.
        while true {
            let reply = try await run(Scripts.purgeReady, keys: keys.readyLists(queue), arguments: [keys.prefix, queue.rawValue, 1000])
            let count = reply.int ?? 0
            removed += count
            if count < 1000 { break }
        }
        // The delayed set holds every queue's jobs: find this queue's, then let the script re-check each.
        var offset = 0
        while true {
            let page = try await send(RedisCommand("ZRANGE", keys.delayed, offset, offset + 999)).array?.compactMap(\.string) ?? []
            if page.isEmpty { break }
            let deleted = try await run(Scripts.purgeWaiting, keys: [], arguments: [keys.prefix, queue.rawValue] + page).int ?? 0
            removed += deleted
            offset += page.count - deleted
        }
        return removed
    }

    public func retryAllDead(in queue: QueueName) async throws -> Int {
        var retried = 0
        while true {
            let ids = try await send(RedisCommand("ZRANGE", keys.dead(queue), 0, 499)).array?.compactMap(\.string) ?? []
            if ids.isEmpty { return retried }
            var progress = 0
            for id in ids {
                guard let jobID = try? JobID(id) else {
                    _ = try await send(RedisCommand("ZREM", keys.dead(queue), id))
                    continue
                }
                switch try await retryDead(jobID) {
                case .requeued:
                    retried += 1
                    progress += 1
                case .notFound, .notDead:
                    // An expired or changed job: its index entry is stale.
                    _ = try await send(RedisCommand("ZREM", keys.dead(queue), id))
                    progress += 1
                }
            }
            if progress == 0 { return retried }
        }
    }

    // MARK: Listings

    private func listPending(_ queue: QueueName, cursor: String?, limit: Int) async throws -> JobPage {
        // Ready lists grow at the left and are served from the right, so an offset from the right stays
        // put while jobs arrive.
        var (level, offset) = (0, 0)
        if let cursor {
            let parts = cursor.split(separator: ":")
            guard parts.count == 3, parts[0] == "p", let first = Int(parts[1]), let second = Int(parts[2]), (0..<4).contains(first), second >= 0
            else { throw invalidCursor(cursor) }
            (level, offset) = (first, second)
        }
        var ids: [String] = []
        while level < 4 && ids.count < limit {
            let want = limit - ids.count
            let list = keys.ready(queue, JobPriority.mostUrgentFirst[level])
            let page = try await send(RedisCommand("LRANGE", list, -(offset + want), -(offset + 1))).array?.compactMap(\.string) ?? []
            ids += page.reversed()
            if page.count < want {
                (level, offset) = (level + 1, 0)
            } else {
                offset += page.count
            }
        }
        let jobs = try await loadJobs(ids)
        return JobPage(jobs: jobs, next: level < 4 && !ids.isEmpty ? "p:\(level):\(offset)" : nil)
    }

    private func listDelayed(_ queue: QueueName, status: JobStatus, cursor: String?, limit: Int) async throws -> JobPage {
        var position = try cursor.map(zsetPosition) ?? nil
        var jobs: [Job] = []
        // The delayed set is shared by every queue: read it in batches and keep this queue's jobs.
        while jobs.count < limit {
            let batch = try await zsetBatch(keys.delayed, after: position, count: 500)
            if batch.isEmpty { return JobPage(jobs: jobs, next: nil) }
            for (index, entry) in batch.enumerated() {
                position = entry
                guard let id = try? JobID(entry.id), let job = try await job(id), job.queue == queue, job.status == status else { continue }
                jobs.append(job)
                if jobs.count == limit {
                    var more = index < batch.count - 1
                    if !more { more = !(try await zsetBatch(keys.delayed, after: position, count: 1)).isEmpty }
                    return JobPage(jobs: jobs, next: more ? position.map { "z:\($0.score):\($0.id)" } : nil)
                }
            }
        }
        return JobPage(jobs: jobs, next: nil)
    }

    private func listIndex(_ index: String, cursor: String?, limit: Int) async throws -> JobPage {
        let position = try cursor.map(zsetPosition) ?? nil
        let batch = try await zsetBatch(index, after: position, count: limit + 1)
        let page = Array(batch.prefix(limit))
        let jobs = try await loadJobs(page.map(\.id))
        let next = batch.count > limit ? page.last.map { "z:\($0.score):\($0.id)" } : nil
        return JobPage(jobs: jobs, next: next)
    }

    private func listProcessing(_ queue: QueueName, cursor: String?, limit: Int) async throws -> JobPage {
        // Running jobs are few (the pools' slots): gather them all, then page by id.
        if let cursor, !cursor.hasPrefix("w:") { throw invalidCursor(cursor) }
        let after = cursor.map { String($0.dropFirst(2)) }
        let workers = try await send(RedisCommand("SMEMBERS", keys.workers)).array?.compactMap(\.string) ?? []
        var ids: [String] = []
        for worker in workers {
            ids += try await send(RedisCommand("LRANGE", keys.processing(worker: worker), 0, -1)).array?.compactMap(\.string) ?? []
        }
        let candidates = ids.sorted().filter { after == nil || $0 > after! }
        var jobs: [Job] = []
        for job in try await loadJobs(candidates) where job.queue == queue && job.status == .processing {
            jobs.append(job)
            if jobs.count == limit + 1 { break }
        }
        let more = jobs.count > limit
        jobs = Array(jobs.prefix(limit))
        return JobPage(jobs: jobs, next: more ? jobs.last.map { "w:\($0.id)" } : nil)
    }

    /// The jobs of `ids` in order, skipping those that expired meanwhile.
    private func loadJobs(_ ids: [String]) async throws -> [Job] {
        try await withThrowingTaskGroup(of: (Int, Job?).self) { group in
            for (index, raw) in ids.enumerated() {
                group.addTask {
                    guard let id = try? JobID(raw) else { return (index, nil) }
                    return (index, try? await self.job(id))
                }
            }
            var found = [Job?](repeating: nil, count: ids.count)
            for try await (index, job) in group { found[index] = job }
            return found.compactMap { $0 }
        }
    }

    private typealias Position = (score: Int, id: String)

    private func zsetPosition(_ cursor: String) throws(JobQueueError) -> Position? {
        let parts = cursor.split(separator: ":", maxSplits: 2)
        guard parts.count == 3, parts[0] == "z", let score = Int(parts[1]) else { throw invalidCursor(cursor) }
        return (score, String(parts[2]))
    }

    /// Up to `count` members after `position` in (score, member) order: first the rest of the members
    /// sharing the position's score, then those with higher scores.
    private func zsetBatch(_ key: String, after position: Position?, count: Int) async throws -> [Position] {
        func entries(_ reply: RedisValue) -> [Position] {
            let items = reply.array ?? []
            return stride(from: 0, to: items.count - 1, by: 2).compactMap { index in
                guard let id = items[index].string, let score = items[index + 1].string.flatMap(Double.init) else { return nil }
                return (Int(score), id)
            }
        }
        guard let position else {
            return entries(try await send(RedisCommand("ZRANGE", key, "-inf", "+inf", "BYSCORE", "LIMIT", 0, count, "WITHSCORES")))
        }
        var result: [Position] = []
        let ties = entries(try await send(RedisCommand("ZRANGE", key, position.score, position.score, "BYSCORE", "WITHSCORES")))
        result += ties.filter { $0.id > position.id }.prefix(count)
        if result.count < count {
            result += entries(
                try await send(
                    RedisCommand("ZRANGE", key, "(\(position.score)", "+inf", "BYSCORE", "LIMIT", 0, count - result.count, "WITHSCORES")))
        }
        return result
    }

    private func invalidCursor(_ cursor: String) -> JobQueueError {
        JobQueueError(.invalidCursor, "the cursor \(cursor.debugDescription) was not made by this listing")
    }
}

extension RedisJobQueue.Scripts {
    /// Pauses or resumes a queue; a resumed queue's idle workers are woken in the same step.
    ///
    /// KEYS: paused set, the queue's wake list
    /// ARGV: queue, paused (1/0)
    static let setPaused = RedisScript(
        """
        if ARGV[2] == '1' then
          redis.call('SADD', KEYS[1], ARGV[1])
        else
          redis.call('SREM', KEYS[1], ARGV[1])
          if redis.call('LLEN', KEYS[2]) == 0 then redis.call('RPUSH', KEYS[2], 1) end
        end
        return 1
        """)

    /// Reads every count of a queue at one instant.
    ///
    /// KEYS: the four ready lists, counts hash, unfinished counter, completed, dead and cancelled indexes,
    /// paused set
    /// ARGV: queue, completed since ms, dead since ms
    /// Returns `{pending ×4, scheduled, retrying, unfinished, completed, dead, cancelled, paused}`.
    static let counts = RedisScript(
        """
        local result = {}
        for i = 1, 4 do result[i] = redis.call('LLEN', KEYS[i]) end
        local counts = redis.call('HMGET', KEYS[5], 'scheduled', 'retrying')
        result[5] = math.max(0, tonumber(counts[1] or '0'))
        result[6] = math.max(0, tonumber(counts[2] or '0'))
        result[7] = tonumber(redis.call('GET', KEYS[6]) or '0')
        result[8] = redis.call('ZCOUNT', KEYS[7], ARGV[2], '+inf')
        result[9] = redis.call('ZCOUNT', KEYS[8], ARGV[3], '+inf')
        result[10] = redis.call('ZCOUNT', KEYS[9], ARGV[2], '+inf')
        result[11] = redis.call('SISMEMBER', KEYS[10], ARGV[1])
        return result
        """)

    /// Deletes up to `limit` ready jobs of a queue.
    ///
    /// KEYS: the four ready lists
    /// ARGV: prefix, queue, limit
    /// Returns how many were deleted.
    static let purgeReady = script(
        """
        local removed, limit = 0, tonumber(ARGV[3])
        for i = 1, 4 do
          while removed < limit do
            local id = redis.call('RPOP', KEYS[i])
            if not id then break end
            local key = K.data(id)
            local unique = redis.call('HGET', key, 'u')
            if redis.call('DEL', key) == 1 then
              release(ARGV[2], unique, id)
              removed = removed + 1
            end
          end
        end
        return removed
        """)

    /// Deletes the given waiting jobs if they still wait in the delayed set and belong to the queue.
    ///
    /// ARGV: prefix, queue, ids...
    /// Returns how many were deleted.
    static let purgeWaiting = script(
        """
        local removed = 0
        for i = 3, #ARGV do
          local id = ARGV[i]
          local key = K.data(id)
          local fields = redis.call('HMGET', key, 'q', 's', 'u')
          if fields[1] == ARGV[2] and (fields[2] == 'scheduled' or fields[2] == 'failed') and redis.call('ZREM', K.delayed, id) == 1 then
            redis.call('HINCRBY', K.counts(ARGV[2]), fields[2] == 'scheduled' and 'scheduled' or 'retrying', -1)
            redis.call('DEL', key)
            release(ARGV[2], fields[3], id)
            removed = removed + 1
          end
        end
        return removed
        """)
}

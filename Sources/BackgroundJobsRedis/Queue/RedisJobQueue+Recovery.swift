public import BackgroundJobsCore
public import BackgroundJobsDomain

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Crash recovery: a worker process proves it is alive with a heartbeat key; when the key expires, any
/// process may hand that worker's jobs to others.
extension RedisJobQueue {
    public func reconcile(_ worker: WorkerID, running: Set<JobID>) async throws -> Int {
        let arguments: [any RedisArgument] = [keys.prefix] + running.map(\.rawValue)
        let reply = try await run(Scripts.reconcile, keys: [keys.processing(worker: worker.rawValue)], arguments: arguments)
        return reply.int ?? 0
    }

    /// Registers `worker` and refreshes its heartbeat for `ttl`; call it more often than `ttl`.
    ///
    /// Sent on a connection lent for the purpose: a worker's liveness must not wait behind job traffic,
    /// or behind a handler that holds up a pipelined connection's thread.
    public func heartbeat(_ worker: WorkerInfo, ttl: Duration) async throws {
        let keys: [any RedisArgument] = [keys.heartbeat(worker: worker.id.rawValue), keys.workers, keys.missingWorkers]
        let arguments: [any RedisArgument] = [
            worker.id.rawValue, max(1, Int(ttl.timeInterval * 1000)), "h", worker.host, "i", worker.pid,
            "q", worker.queues.map(\.rawValue).joined(separator: ","), "c", worker.concurrency, "b", worker.busy,
            "p", worker.processed, "f", worker.failed, "s", RedisJobCodec.milliseconds(worker.startedAt),
        ]
        do {
            _ = try await client.withBlockingConnection { try await $0.run(Scripts.heartbeat, keys: keys, arguments: arguments) }
        } catch let error as RedisError {
            throw queueError(error)
        }
    }

    public func workers() async throws -> [WorkerInfo] {
        let ids = try await send(RedisCommand("SMEMBERS", keys.workers)).array?.compactMap(\.string) ?? []
        var result: [WorkerInfo] = []
        for raw in ids.sorted() {
            guard let id = try? WorkerID(raw) else { continue }
            let reply = try await send(RedisCommand("HGETALL", keys.heartbeat(worker: raw)))
            let items = reply.array ?? []
            guard !items.isEmpty else { continue }
            var fields: [String: String] = [:]
            for index in stride(from: 0, to: items.count - 1, by: 2) {
                if let key = items[index].string, let value = items[index + 1].string { fields[key] = value }
            }
            func number(_ key: String) -> Int { fields[key].flatMap { Int($0) } ?? 0 }
            result.append(
                WorkerInfo(
                    id: id, host: fields["h"] ?? "", pid: number("i"),
                    queues: (fields["q"] ?? "").split(separator: ",").compactMap { try? QueueName(String($0)) },
                    concurrency: number("c"), busy: number("b"), processed: number("p"), failed: number("f"),
                    startedAt: Date(timeIntervalSince1970: Double(number("s")) / 1000)))
        }
        return result
    }

    /// Removes `worker` from the registry after it has put its jobs back, at a clean shutdown.
    public func unregister(_ worker: WorkerID) async throws {
        _ = try await run(
            Scripts.unregister,
            keys: [keys.heartbeat(worker: worker.rawValue), keys.workers, keys.processing(worker: worker.rawValue), keys.missingWorkers],
            arguments: [worker.rawValue])
    }

    /// Gives the jobs of every worker whose heartbeat has expired back to their ready lists, counting a
    /// stall on each; a job that stalled more than `stallLimit` times is dead instead, so a job that kills
    /// its worker every time does not loop forever. Safe to run from many processes at once.
    public func reapDeadWorkers(now: Date, stallLimit: Int, grace: Duration) async throws -> ReapResult {
        let reply = try await run(
            Scripts.reap, keys: [keys.workers, keys.missingWorkers],
            arguments: [
                keys.prefix, RedisJobCodec.milliseconds(now), stallLimit, Int(configuration.deadRetention.timeInterval),
                Int(configuration.completedRetention.timeInterval), Int(grace.milliseconds),
            ])
        guard let parts = reply.array, parts.count == 3, let workers = parts[0].int, let requeued = parts[1].int,
            let dead = parts[2].int
        else {
            throw JobQueueError(.corruptJob, "reap got an unexpected reply \(reply)")
        }
        return ReapResult(workers: workers, requeued: requeued, dead: dead)
    }
}

extension RedisJobQueue.Scripts {
    /// KEYS: heartbeat hash, registry set, missing-workers hash. ARGV: worker id, ttl ms, field/value
    /// pairs describing it. A beat clears a reaper's mark that the worker was missing.
    static let heartbeat = RedisScript(
        """
        redis.call('HSET', KEYS[1], unpack(ARGV, 3))
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        redis.call('SADD', KEYS[2], ARGV[1])
        redis.call('HDEL', KEYS[3], ARGV[1])
        return 1
        """)

    /// KEYS: heartbeat key, registry set, processing list, missing-workers hash. ARGV: worker id.
    /// Refuses while the worker still holds jobs, so none is orphaned by a clean stop.
    static let unregister = RedisScript(
        """
        if redis.call('LLEN', KEYS[3]) > 0 then
          return redis.error_reply('STILLHOLDING the worker still holds jobs; requeue them first')
        end
        redis.call('DEL', KEYS[1])
        redis.call('SREM', KEYS[2], ARGV[1])
        redis.call('HDEL', KEYS[4], ARGV[1])
        return 1
        """)

    /// Walks the registry; a worker without a heartbeat loses its jobs to the ready lists (or, past the
    /// stall limit, to the dead set) and leaves the registry. The keys of a dead worker are only known once
    /// its id is read, so they are built here.
    ///
    /// A job whose cancel was requested ends cancelled rather than running again. A worker is dead once
    /// its heartbeat has been missing for the grace, counted from the first reap that found it missing
    /// (kept in the missing-workers hash on Redis's clock, cleared when it beats again).
    ///
    /// KEYS: registry set, missing-workers hash
    /// ARGV: prefix, now ms, stall limit, dead retention seconds, completed retention seconds, grace ms
    /// Returns `{workers reaped, jobs requeued, jobs dead}`.
    static let reap = script(
        """
        local now, limit, retention, grace = ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[6])
        local reaped, requeued, dead = 0, 0, 0
        local anyMissing = redis.call('EXISTS', KEYS[2]) == 1
        -- The grace runs on Redis's clock: a reap sent before an outage arrives after it with an old `now`.
        local clock = redis.call('TIME')
        local redisNow = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        local function confirmedDead(worker)
          if grace <= 0 then return true end
          local since = tonumber(redis.call('HGET', KEYS[2], worker) or '')
          if not since then
            redis.call('HSET', KEYS[2], worker, redisNow)
            return false
          end
          return redisNow - since >= grace
        end
        for _, worker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          if redis.call('EXISTS', K.heartbeat(worker)) == 1 then
            if anyMissing then redis.call('HDEL', KEYS[2], worker) end
          elseif confirmedDead(worker) then
            local processing = K.processing(worker)
            local id = redis.call('RPOP', processing)
            while id do
              local key = K.data(id)
              local fields = redis.call('HMGET', key, 'q', 'u', 'x')
              if fields[1] and fields[3] then
                finishCancelled(id, fields[1], fields[2], now, ARGV[5], 'processing')
              elseif fields[1] then
                local stalls = redis.call('HINCRBY', key, 'k', 1)
                if stalls > limit then
                  bury(id, fields[1], now, retention, 'the job stalled ' .. stalls .. ' times: its worker died while running it')
                  release(fields[1], fields[2], id)
                  dead = dead + 1
                elseif makeReady(id, true) then
                  -- When it went back: it waits this long at most for a worker that holds nothing else.
                  redis.call('HSET', key, 'z', now)
                  requeued = requeued + 1
                end
              end
              id = redis.call('RPOP', processing)
            end
            redis.call('SREM', KEYS[1], worker)
            redis.call('HDEL', KEYS[2], worker)
            redis.call('DEL', K.control(worker))
            reaped = reaped + 1
          end
        end
        return {reaped, requeued, dead}
        """)
}

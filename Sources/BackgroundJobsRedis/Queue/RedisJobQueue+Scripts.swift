extension RedisJobQueue {
    /// The Lua scripts behind every change of a job's state. Each one is a single atomic step: every check
    /// comes before the first write, so a script that refuses leaves Redis as it was.
    enum Scripts {
        /// Steps several scripts share, written once: a job leaving the unfinished count, a job dying,
        /// a job going back to its ready list. Each script that needs them starts with this text.
        static let library = """
            local function release(counter, uniqueKey, id)
              if tonumber(redis.call('DECR', counter)) <= 0 then redis.call('DEL', counter) end
              if uniqueKey and redis.call('GET', uniqueKey) == id then redis.call('DEL', uniqueKey) end
            end
            local function bury(jobKey, deadSet, id, now, retention, reason)
              redis.call('HSET', jobKey, 's', 'dead', 'e', reason, 'f', now)
              redis.call('HDEL', jobKey, 'w')
              redis.call('EXPIRE', jobKey, retention)
              redis.call('ZADD', deadSet, now, id)
              -- Dead entries older than the retention point at expired hashes: trim them as new ones come.
              redis.call('ZREMRANGEBYSCORE', deadSet, '-inf', '(' .. (tonumber(now) - 1000 * tonumber(retention)))
            end
            -- One marker is enough to wake a worker; the worker that takes it leaves a new one when it
            -- cannot take every ready job, so markers never pile up.
            local function signal(wakeKey)
              if redis.call('LLEN', wakeKey) == 0 then redis.call('RPUSH', wakeKey, 1) end
            end
            local function makeReady(jobKey, readyPrefix, wakePrefix, id, first)
              local fields = redis.call('HMGET', jobKey, 'q', 'p')
              if not fields[1] then return false end
              redis.call('HSET', jobKey, 's', 'pending')
              redis.call('HDEL', jobKey, 'w')
              local list = readyPrefix .. fields[1] .. ':' .. fields[2]
              if first then redis.call('RPUSH', list, id) else redis.call('LPUSH', list, id) end
              signal(wakePrefix .. fields[1])
              return true
            end
            -- A job that is now the earliest to wait for wakes a worker, which then waits less long.
            local function schedule(delayedKey, timerWake, id, dueAt)
              redis.call('ZADD', delayedKey, dueAt, id)
              if redis.call('ZRANGE', delayedKey, 0, 0)[1] == id then signal(timerWake) end
            end

            """

        /// A script made of the shared steps and `body`.
        static func script(_ body: String) -> RedisScript { RedisScript(library + body) }

        /// Stores a new job and puts it in its ready list or the delayed set.
        ///
        /// KEYS: job hash, ready list, delayed set, unfinished counter, queue wake list, timer wake list,
        /// [unique key]
        /// ARGV: id, max jobs (0 = none), unique ms (0 = none), run-at ms (0 = now), field/value pairs...
        /// Returns `{1}` when stored, `{0, holder id}` for a duplicate; `QUEUEFULL` error when full.
        static let enqueue = script(
            """
            local maxJobs = tonumber(ARGV[2])
            if maxJobs > 0 and tonumber(redis.call('GET', KEYS[4]) or '0') >= maxJobs then
              return redis.error_reply('QUEUEFULL the queue holds its maximum of ' .. maxJobs .. ' unfinished jobs')
            end
            if ARGV[3] ~= '0' then
              local holder = redis.call('GET', KEYS[7])
              if holder then return {0, holder} end
            end
            if redis.call('EXISTS', KEYS[1]) == 1 then
              return redis.error_reply('DUPLICATEID a job with the id ' .. ARGV[1] .. ' exists already')
            end
            if ARGV[3] ~= '0' then redis.call('SET', KEYS[7], ARGV[1], 'PX', ARGV[3]) end
            redis.call('HSET', KEYS[1], unpack(ARGV, 5))
            redis.call('INCR', KEYS[4])
            if ARGV[4] ~= '0' then
              schedule(KEYS[3], KEYS[6], ARGV[1], ARGV[4])
            else
              redis.call('LPUSH', KEYS[2], ARGV[1])
              signal(KEYS[5])
            end
            return {1}
            """)

        /// Promotes due jobs, then moves up to `limit` ready ids into the worker's processing list, marks
        /// them processing and returns their hashes. Ids whose hash is gone are dropped.
        ///
        /// With a starvation limit, the oldest job of each less urgent list is taken first while it has
        /// been ready that long (its ready time is the later of its creation and its due time). When ready
        /// jobs are left behind, the queue's wake list gets a marker so another idle worker takes them.
        ///
        /// KEYS: processing list, delayed set, then the four ready lists of each queue (most urgent first),
        /// then the wake list of each queue
        /// ARGV: limit, now ms, worker id, job hash prefix, ready prefix, wake prefix, number of queues,
        /// starvation limit ms (0 = strict), most jobs to promote
        /// Returns `{next due ms or -1, {id, {field, value, ...}, id, {...}, ...}}`.
        static let fetch = script(
            """
            local limit, now, queues, starve = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[7]), tonumber(ARGV[8])
            local due = redis.call('ZRANGE', KEYS[2], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[9]))
            for _, id in ipairs(due) do
              redis.call('ZREM', KEYS[2], id)
              makeReady(ARGV[4] .. id, ARGV[5], ARGV[6], id, false)
            end
            local taken = {}
            local function take(list)
              local id = redis.call('LMOVE', list, KEYS[1], 'RIGHT', 'LEFT')
              if not id then return false end
              local key = ARGV[4] .. id
              if redis.call('EXISTS', key) == 0 then
                redis.call('LREM', KEYS[1], 1, id)
              else
                redis.call('HSET', key, 's', 'processing', 'b', ARGV[2], 'w', ARGV[3])
                redis.call('HINCRBY', key, 'a', 1)
                taken[#taken + 1] = id
                taken[#taken + 1] = redis.call('HGETALL', key)
              end
              return true
            end
            local lastList = 2 + 4 * queues
            if starve > 0 then
              for first = 3, lastList, 4 do
                for list = first + 1, first + 3 do
                  while #taken < 2 * limit do
                    local id = redis.call('LINDEX', KEYS[list], -1)
                    if not id then break end
                    local times = redis.call('HMGET', ARGV[4] .. id, 'c', 'r')
                    local readyAt = math.max(tonumber(times[1]) or 0, tonumber(times[2]) or 0)
                    if now - readyAt < starve then break end
                    take(KEYS[list])
                  end
                end
              end
            end
            for list = 3, lastList do
              while #taken < 2 * limit and take(KEYS[list]) do end
              if #taken >= 2 * limit then break end
            end
            for queue = 0, queues - 1 do
              for list = 3 + 4 * queue, 6 + 4 * queue do
                if redis.call('LLEN', KEYS[list]) > 0 then
                  signal(KEYS[lastList + 1 + queue])
                  break
                end
              end
            end
            local nextDue = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
            return {nextDue[2] or -1, taken}
            """)

        /// Completes a job if the worker still holds it.
        ///
        /// KEYS: processing list, job hash, unfinished counter, [unique key]
        /// ARGV: id, finished ms, retention seconds, has result (1/0), result
        /// Returns 1, or 0 when the worker does not hold the job.
        static let complete = script(
            """
            if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
            redis.call('HSET', KEYS[2], 's', 'completed', 'f', ARGV[2])
            if ARGV[4] == '1' then redis.call('HSET', KEYS[2], 'o', ARGV[5]) end
            redis.call('HDEL', KEYS[2], 'w')
            redis.call('EXPIRE', KEYS[2], ARGV[3])
            release(KEYS[3], KEYS[4], ARGV[1])
            return 1
            """)
    }
}

extension RedisJobQueue.Scripts {
    /// Records a failed attempt: back to the delayed set for a retry, or dead.
    ///
    /// KEYS: processing list, job hash, delayed set, dead set, unfinished counter, timer wake list,
    /// [unique key]
    /// ARGV: id, now ms, error, retry-at ms (0 = dead), dead retention seconds
    /// Returns 1 (will retry), 2 (dead) or 0 when the worker does not hold the job.
    static let fail = script(
        """
        if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
        if ARGV[4] ~= '0' then
          redis.call('HDEL', KEYS[2], 'w')
          redis.call('HSET', KEYS[2], 's', 'failed', 'e', ARGV[3], 'r', ARGV[4])
          schedule(KEYS[3], KEYS[6], ARGV[1], ARGV[4])
          return 1
        end
        bury(KEYS[2], KEYS[4], ARGV[1], ARGV[2], ARGV[5], ARGV[3])
        release(KEYS[5], KEYS[7], ARGV[1])
        return 2
        """)

    /// Puts jobs a worker holds back at the front of their ready lists, undoing the attempt count.
    ///
    /// KEYS: processing list
    /// ARGV: job hash prefix, ready list prefix, wake prefix, ids...
    /// Returns how many were put back.
    static let requeue = script(
        """
        local count = 0
        for i = 4, #ARGV do
          local id = ARGV[i]
          if redis.call('LREM', KEYS[1], 1, id) == 1 then
            local key = ARGV[1] .. id
            if makeReady(key, ARGV[2], ARGV[3], id, true) then
              if tonumber(redis.call('HINCRBY', key, 'a', -1)) < 0 then redis.call('HSET', key, 'a', 0) end
              count = count + 1
            end
          end
        end
        return count
        """)

    /// Moves due jobs from the delayed set to their ready lists and tells when the next one is due.
    ///
    /// KEYS: delayed set
    /// ARGV: now ms, limit, job hash prefix, ready list prefix, wake prefix
    /// Returns `{promoted, next due ms or -1}`.
    static let promote = script(
        """
        local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
        local promoted = 0
        for _, id in ipairs(due) do
          redis.call('ZREM', KEYS[1], id)
          if makeReady(ARGV[3] .. id, ARGV[4], ARGV[5], id, false) then promoted = promoted + 1 end
        end
        local next = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        return {promoted, next[2] or -1}
        """)
}

extension RedisJobQueue.Scripts {
    /// Puts back every id in a worker's processing list that is not among those it runs.
    ///
    /// KEYS: processing list
    /// ARGV: job hash prefix, ready list prefix, wake prefix, ids the worker runs...
    /// Returns how many were put back.
    static let reconcile = script(
        """
        local running = {}
        for i = 4, #ARGV do running[ARGV[i]] = true end
        local count = 0
        for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
          if not running[id] then
            redis.call('LREM', KEYS[1], 0, id)
            local key = ARGV[1] .. id
            if makeReady(key, ARGV[2], ARGV[3], id, true) then
              if tonumber(redis.call('HINCRBY', key, 'a', -1)) < 0 then redis.call('HSET', key, 'a', 0) end
              count = count + 1
            end
          end
        end
        return count
        """)

    /// Makes a job dead whose stored hash cannot be read as a job, so a bad entry neither blocks the worker
    /// nor comes back. Its queue is read from the hash when it names one, else `fallback queue`.
    ///
    /// KEYS: processing list, job hash
    /// ARGV: id, now ms, reason, dead retention seconds, dead prefix, unfinished prefix, unique prefix,
    /// fallback queue
    /// Returns 1, or 0 when the worker does not hold the job.
    static let buryUnreadable = script(
        """
        if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
        local fields = redis.call('HMGET', KEYS[2], 'q', 'u')
        local queue = fields[1]
        if not queue or #queue > 64 or not string.match(queue, '^[A-Za-z0-9_.-]+$') then queue = ARGV[8] end
        bury(KEYS[2], ARGV[5] .. queue, ARGV[1], ARGV[2], ARGV[4], ARGV[3])
        release(ARGV[6] .. queue, fields[2] and (ARGV[7] .. fields[2]), ARGV[1])
        return 1
        """)
}

extension RedisJobQueue.Scripts {
    /// Cancels a waiting job: out of its ready list or the delayed set, status `cancelled`.
    ///
    /// KEYS: job hash, delayed set
    /// ARGV: id, now ms, retention seconds, ready prefix, unfinished prefix, unique prefix
    /// Returns `{1}` when cancelled, `{0}` when there is no such job, `{2, status}` when it does not wait.
    static let cancel = script(
        """
        local fields = redis.call('HMGET', KEYS[1], 's', 'q', 'p', 'u')
        local status = fields[1]
        if not status then return {0} end
        if status == 'pending' then
          redis.call('LREM', ARGV[4] .. fields[2] .. ':' .. fields[3], 1, ARGV[1])
        elseif status == 'scheduled' or status == 'failed' then
          redis.call('ZREM', KEYS[2], ARGV[1])
        else
          return {2, status}
        end
        redis.call('HSET', KEYS[1], 's', 'cancelled', 'f', ARGV[2])
        redis.call('EXPIRE', KEYS[1], ARGV[3])
        release(ARGV[5] .. fields[2], fields[4] and (ARGV[6] .. fields[4]), ARGV[1])
        return {1}
        """)

    /// Puts a dead job back in its ready list.
    ///
    /// KEYS: job hash
    /// ARGV: id, ready prefix, wake prefix, dead prefix, unfinished prefix
    /// Returns `{1}` when requeued, `{0}` when there is no such job, `{2, status}` when it is not dead.
    static let retryDead = script(
        """
        local fields = redis.call('HMGET', KEYS[1], 's', 'q')
        if not fields[1] then return {0} end
        if fields[1] ~= 'dead' then return {2, fields[1]} end
        redis.call('ZREM', ARGV[4] .. fields[2], ARGV[1])
        redis.call('PERSIST', KEYS[1])
        redis.call('HSET', KEYS[1], 'a', 0, 'k', 0)
        redis.call('HDEL', KEYS[1], 'f')
        redis.call('INCR', ARGV[5] .. fields[2])
        makeReady(KEYS[1], ARGV[2], ARGV[3], ARGV[1], false)
        return {1}
        """)
}

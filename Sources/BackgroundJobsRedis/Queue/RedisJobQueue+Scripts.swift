extension RedisJobQueue {
    /// The Lua scripts behind every change of a job's state. Each one is a single atomic step: every check
    /// comes before the first write, so a script that refuses leaves Redis as it was.
    enum Scripts {
        /// Stores a new job and puts it in its ready list or the delayed set.
        ///
        /// KEYS: job hash, ready list, delayed set, unfinished counter, [unique key]
        /// ARGV: id, max jobs (0 = none), unique ms (0 = none), run-at ms (0 = now), field/value pairs...
        /// Returns `{1}` when stored, `{0, holder id}` for a duplicate; `QUEUEFULL` error when full.
        static let enqueue = RedisScript(
            """
            local maxJobs = tonumber(ARGV[2])
            if maxJobs > 0 and tonumber(redis.call('GET', KEYS[4]) or '0') >= maxJobs then
              return redis.error_reply('QUEUEFULL the queue holds its maximum of ' .. maxJobs .. ' unfinished jobs')
            end
            if ARGV[3] ~= '0' then
              local holder = redis.call('GET', KEYS[5])
              if holder then return {0, holder} end
            end
            if redis.call('EXISTS', KEYS[1]) == 1 then
              return redis.error_reply('DUPLICATEID a job with the id ' .. ARGV[1] .. ' exists already')
            end
            if ARGV[3] ~= '0' then redis.call('SET', KEYS[5], ARGV[1], 'PX', ARGV[3]) end
            redis.call('HSET', KEYS[1], unpack(ARGV, 5))
            redis.call('INCR', KEYS[4])
            if ARGV[4] ~= '0' then
              redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
            else
              redis.call('LPUSH', KEYS[2], ARGV[1])
            end
            return {1}
            """)

        /// Moves up to `limit` ready ids into the worker's processing list, marks them processing and
        /// returns their hashes. Ids whose hash is gone are dropped.
        ///
        /// KEYS: processing list, ready lists in the order to serve them
        /// ARGV: limit, now ms, worker id, job hash prefix
        /// Returns `{id, {field, value, ...}, id, {...}, ...}`.
        static let fetch = RedisScript(
            """
            local limit = tonumber(ARGV[1])
            local taken = {}
            for i = 2, #KEYS do
              while #taken < 2 * limit do
                local id = redis.call('LMOVE', KEYS[i], KEYS[1], 'RIGHT', 'LEFT')
                if not id then break end
                local key = ARGV[4] .. id
                if redis.call('EXISTS', key) == 0 then
                  redis.call('LREM', KEYS[1], 1, id)
                else
                  redis.call('HSET', key, 's', 'processing', 'b', ARGV[2], 'w', ARGV[3])
                  redis.call('HINCRBY', key, 'a', 1)
                  taken[#taken + 1] = id
                  taken[#taken + 1] = redis.call('HGETALL', key)
                end
              end
              if #taken >= 2 * limit then break end
            end
            return taken
            """)

        /// Completes a job if the worker still holds it.
        ///
        /// KEYS: processing list, job hash, unfinished counter, [unique key]
        /// ARGV: id, finished ms, retention seconds, has result (1/0), result
        /// Returns 1, or 0 when the worker does not hold the job.
        static let complete = RedisScript(
            """
            if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
            redis.call('HSET', KEYS[2], 's', 'completed', 'f', ARGV[2])
            if ARGV[4] == '1' then redis.call('HSET', KEYS[2], 'o', ARGV[5]) end
            redis.call('HDEL', KEYS[2], 'w')
            redis.call('EXPIRE', KEYS[2], ARGV[3])
            if tonumber(redis.call('DECR', KEYS[3])) < 0 then redis.call('SET', KEYS[3], 0) end
            if KEYS[4] and redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
            return 1
            """)
    }
}

extension RedisJobQueue.Scripts {
    /// Records a failed attempt: back to the delayed set for a retry, or dead.
    ///
    /// KEYS: processing list, job hash, delayed set, dead set, unfinished counter, [unique key]
    /// ARGV: id, now ms, error, retry-at ms (0 = dead), dead retention seconds
    /// Returns 1 (will retry), 2 (dead) or 0 when the worker does not hold the job.
    static let fail = RedisScript(
        """
        if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
        redis.call('HDEL', KEYS[2], 'w')
        if ARGV[4] ~= '0' then
          redis.call('HSET', KEYS[2], 's', 'failed', 'e', ARGV[3], 'r', ARGV[4])
          redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
          return 1
        end
        redis.call('HSET', KEYS[2], 's', 'dead', 'e', ARGV[3], 'f', ARGV[2])
        redis.call('EXPIRE', KEYS[2], ARGV[5])
        redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
        -- Dead entries older than the retention point at expired hashes: trim them as new ones come.
        redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. (tonumber(ARGV[2]) - 1000 * tonumber(ARGV[5])))
        if tonumber(redis.call('DECR', KEYS[5])) < 0 then redis.call('SET', KEYS[5], 0) end
        if KEYS[6] and redis.call('GET', KEYS[6]) == ARGV[1] then redis.call('DEL', KEYS[6]) end
        return 2
        """)

    /// Puts jobs a worker holds back at the front of their ready lists, undoing the attempt count.
    ///
    /// KEYS: processing list
    /// ARGV: job hash prefix, ready list prefix, ids...
    /// Returns how many were put back.
    static let requeue = RedisScript(
        """
        local count = 0
        for i = 3, #ARGV do
          local id = ARGV[i]
          if redis.call('LREM', KEYS[1], 1, id) == 1 then
            local key = ARGV[1] .. id
            local fields = redis.call('HMGET', key, 'q', 'p')
            if fields[1] then
              redis.call('HSET', key, 's', 'pending')
              redis.call('HDEL', key, 'w')
              if tonumber(redis.call('HINCRBY', key, 'a', -1)) < 0 then redis.call('HSET', key, 'a', 0) end
              redis.call('RPUSH', ARGV[2] .. fields[1] .. ':' .. fields[2], id)
              count = count + 1
            end
          end
        end
        return count
        """)

    /// Moves due jobs from the delayed set to their ready lists and tells when the next one is due.
    ///
    /// KEYS: delayed set
    /// ARGV: now ms, limit, job hash prefix, ready list prefix
    /// Returns `{promoted, next due ms or -1}`.
    static let promote = RedisScript(
        """
        local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
        local promoted = 0
        for _, id in ipairs(due) do
          redis.call('ZREM', KEYS[1], id)
          local key = ARGV[3] .. id
          local fields = redis.call('HMGET', key, 'q', 'p')
          if fields[1] then
            redis.call('HSET', key, 's', 'pending')
            redis.call('LPUSH', ARGV[4] .. fields[1] .. ':' .. fields[2], id)
            promoted = promoted + 1
          end
        end
        local next = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        return {promoted, next[2] or -1}
        """)
}

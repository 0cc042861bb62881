extension RedisJobQueue {
    /// The Lua scripts behind every change of a job's state. Each one is a single atomic step: every check
    /// comes before the first write, so a script that refuses leaves Redis as it was.
    ///
    /// Every script that uses the shared steps takes the key prefix as `ARGV[1]` and builds the keys of
    /// jobs and queues it discovers with `RedisKeys.lua`; the keys it knows beforehand it gets in `KEYS`.
    enum Scripts {
        /// Steps several scripts share, written once: a job leaving the unfinished count, a job dying,
        /// a job going back to its ready list, a job waiting for a time.
        static let library = RedisKeys.lua + """
            local K = keysFor(ARGV[1])
            -- One marker is enough to wake a worker; the worker that takes it leaves a new one when it
            -- cannot take every ready job, so markers never pile up.
            local function signal(wakeKey)
              if redis.call('LLEN', wakeKey) == 0 then redis.call('RPUSH', wakeKey, 1) end
            end
            -- Every status change goes to a capped stream, whose entry id carries the time. The changes of one
            -- script call share one entry (a line "id from to" each): one append per call, not per job.
            local changes = {}
            local function event(id, from, to)
              changes[#changes + 1] = id .. ' ' .. (from or '') .. ' ' .. to
            end
            local function flushEvents()
              if #changes > 0 then
                redis.call('XADD', K.events, 'MAXLEN', '~', 1000, '*', 'changes', table.concat(changes, '\\n'))
              end
            end
            -- New ready jobs, per ready list in the order they came, pushed together when the script ends: one
            -- LPUSH per list and up to 500 jobs, not one per job, puts them where single pushes would.
            local newReady, newReadyLists = {}, {}
            local function pushReady(list, id)
              local ids = newReady[list]
              if not ids then
                ids = {}
                newReady[list] = ids
                newReadyLists[#newReadyLists + 1] = list
              end
              ids[#ids + 1] = id
            end
            local function flushReady()
              for _, list in ipairs(newReadyLists) do
                local ids = newReady[list]
                for first = 1, #ids, 500 do
                  redis.call('LPUSH', list, unpack(ids, first, math.min(#ids, first + 499)))
                end
              end
            end
            local function release(queue, uniqueKey, id)
              local counter = K.unfinished(queue)
              if tonumber(redis.call('DECR', counter)) <= 0 then redis.call('DEL', counter) end
              if uniqueKey and uniqueKey ~= '' then
                local key = K.unique(uniqueKey)
                if redis.call('GET', key) == id then redis.call('DEL', key) end
              end
            end
            -- Finished jobs are indexed by time; entries past the retention point at expired hashes and are
            -- trimmed by the sweep (the worker pools run it every minute), not on this hot path.
            local function remember(index, id, now)
              redis.call('ZADD', index, now, id)
            end
            local function bury(id, queue, now, retention, reason)
              local jobKey = K.data(id)
              event(id, redis.call('HGET', jobKey, 's'), 'dead')
              redis.call('HSET', jobKey, 's', 'dead', 'e', reason, 'f', now)
              redis.call('HDEL', jobKey, 'w')
              redis.call('EXPIRE', jobKey, retention)
              remember(K.dead(queue), id, now)
            end
            local function finishCancelled(id, queue, uniqueKey, now, retention, from)
              local jobKey = K.data(id)
              event(id, from, 'cancelled')
              redis.call('HSET', jobKey, 's', 'cancelled', 'f', now)
              redis.call('HDEL', jobKey, 'w', 'x')
              redis.call('EXPIRE', jobKey, retention)
              release(queue, uniqueKey, id)
              remember(K.cancelled(queue), id, now)
            end
            local function makeReady(id, first)
              local jobKey = K.data(id)
              -- pcall: a key that is not a hash is no job, and must not stop a reaper or a reconcile for good.
              local fields = redis.pcall('HMGET', jobKey, 'q', 'p', 's')
              if fields.err or not fields[1] then return false end
              if fields[3] == 'scheduled' then
                redis.call('HINCRBY', K.counts(fields[1]), 'scheduled', -1)
              elseif fields[3] == 'failed' then
                redis.call('HINCRBY', K.counts(fields[1]), 'retrying', -1)
              end
              event(id, fields[3], 'pending')
              redis.call('HSET', jobKey, 's', 'pending')
              redis.call('HDEL', jobKey, 'w')
              local list = K.ready(fields[1], fields[2])
              if first then redis.call('RPUSH', list, id) else redis.call('LPUSH', list, id) end
              signal(K.wake(fields[1]))
              return true
            end
            -- A job waiting for a time; one that is now the earliest wakes a worker, which waits less long.
            local function schedule(id, queue, dueAt, kind)
              redis.call('ZADD', K.delayed, dueAt, id)
              redis.call('HINCRBY', K.counts(queue), kind, 1)
              if redis.call('ZRANGE', K.delayed, 0, 0)[1] == id then signal(K.timerWake) end
            end
            -- The ways a held job leaves its worker. Each returns 0 when the worker does not hold the job.
            -- The search runs from the tail, where the oldest ids are: those that finish first.
            local function completeOne(processing, id, now, retention, hasResult, result, queue, unique)
              if redis.call('LREM', processing, -1, id) == 0 then return 0 end
              local key = K.data(id)
              event(id, 'processing', 'completed')
              -- The worker field stays: on a finished job it tells which worker ran it last.
              if hasResult == '1' then
                redis.call('HSET', key, 's', 'completed', 'f', now, 'o', result)
              else
                redis.call('HSET', key, 's', 'completed', 'f', now)
              end
              redis.call('EXPIRE', key, retention)
              release(queue, unique, id)
              remember(K.completed(queue), id, now)
              return 1
            end
            -- A job whose cancel was requested while it ran ends cancelled instead of failing.
            local function failOne(processing, id, now, err, retryAt, deadRetention, queue, unique, completedRetention)
              if redis.call('LREM', processing, -1, id) == 0 then return 0 end
              local key = K.data(id)
              redis.call('HSET', key, 'e', err)
              if redis.call('HEXISTS', key, 'x') == 1 then
                finishCancelled(id, queue, unique, now, completedRetention, 'processing')
                return 3
              end
              if retryAt ~= '0' then
                event(id, 'processing', 'failed')
                redis.call('HDEL', key, 'w')
                redis.call('HSET', key, 's', 'failed', 'r', retryAt)
                schedule(id, queue, retryAt, 'retrying')
                return 1
              end
              bury(id, queue, now, deadRetention, err)
              release(queue, unique, id)
              return 2
            end
            local function cancelOne(processing, id, now, retention, queue, unique)
              if redis.call('LREM', processing, -1, id) == 0 then return 0 end
              finishCancelled(id, queue, unique, now, retention, 'processing')
              return 1
            end
            -- Back to the front of its ready list, as if never started.
            local function requeueOne(processing, id)
              if redis.call('LREM', processing, -1, id) == 0 or not makeReady(id, true) then return 0 end
              local key = K.data(id)
              if tonumber(redis.call('HINCRBY', key, 'a', -1)) < 0 then redis.call('HSET', key, 'a', 0) end
              return 1
            end
            -- Promotes due jobs, then takes up to `limit` ready jobs of the unpaused `queues` (most urgent
            -- first; with a starvation limit, less urgent jobs ready that long first) into `processing`.
            -- Leaves a wake-up marker for queues it leaves jobs in. Returns {next due ms or -1, taken}.
            local function fetchJobs(processing, limit, now, worker, starve, promoteLimit, queueNames)
              local due = redis.call('ZRANGE', K.delayed, '-inf', now, 'BYSCORE', 'LIMIT', 0, promoteLimit)
              for _, id in ipairs(due) do
                redis.call('ZREM', K.delayed, id)
                makeReady(id, false)
              end
              local taken = {}
              if limit > 0 then
                local queues = {}
                for _, name in ipairs(queueNames) do
                  if redis.call('SISMEMBER', K.paused, name) == 0 then
                    local lists = {}
                    for i, priority in ipairs(priorities) do lists[i] = K.ready(name, priority) end
                    queues[#queues + 1] = {name = name, lists = lists}
                  end
                end
                -- A job that stalled (its worker died holding it) may be what killed that worker: it is taken
                -- only by a worker that holds nothing else, and alone, so a crash it causes again stalls no
                -- other job. Otherwise it stays at the head of its list and this fetch takes no more: the
                -- workers drain, and the first with nothing left takes it (a wake-up marker would only make
                -- busy workers wake each other). A worker busy with a long job would hold up the list, so
                -- after `isolateFor` ms back in its list any fetch takes it, beside what it took before, but
                -- takes nothing after it. With the pool fetching nothing while it holds one, no worker ever
                -- holds two, so an innocent job that stalled beside a poison pill never dies with it.
                local stopped, isolated = false, false
                local isolateFor = 5000
                local function take(list)
                  local id = redis.call('LMOVE', list, processing, 'RIGHT', 'LEFT')
                  if not id then return false end
                  local key = K.data(id)
                  -- The hash as it was: the worker applies status, start time and attempt itself. An entry
                  -- that is not a hash goes back to the worker as one without fields, which buries it.
                  local fields = redis.pcall('HGETALL', key)
                  if type(fields) ~= 'table' or fields.err then
                    taken[#taken + 1] = id
                    taken[#taken + 1] = {'!type', redis.call('TYPE', key).ok}
                    return true
                  end
                  if #fields == 0 then
                    taken[#taken + 1] = id
                    taken[#taken + 1] = fields
                    return true
                  end
                  local attempts, stalls, back = 0, 0, 0
                  for i = 1, #fields, 2 do
                    if fields[i] == 'a' then attempts = tonumber(fields[i + 1]) or 0 end
                    if fields[i] == 'k' then stalls = tonumber(fields[i + 1]) or 0 end
                    if fields[i] == 'z' then back = tonumber(fields[i + 1]) or 0 end
                  end
                  if stalls > 0 then
                    if now - back < isolateFor and (#taken > 0 or redis.call('LLEN', processing) > 1) then
                      redis.call('LMOVE', processing, list, 'LEFT', 'RIGHT')
                      stopped = true
                      return false
                    end
                    isolated = true
                    -- Isolation that makes progress keeps its hold: the next stalled job in line gets a fresh
                    -- wait, so a slow run of them (a crash's backtrace hogging the machine) is not mixed
                    -- together by the bound meant for a worker stuck on one long job.
                    local nextID = redis.call('LINDEX', list, -1)
                    if nextID then
                      local nextStalls = redis.pcall('HGET', K.data(nextID), 'k')
                      if type(nextStalls) == 'string' and (tonumber(nextStalls) or 0) > 0 then
                        redis.call('HSET', K.data(nextID), 'z', now)
                      end
                    end
                  end
                  event(id, 'pending', 'processing')
                  redis.call('HSET', key, 's', 'processing', 'b', now, 'w', worker, 'a', attempts + 1)
                  taken[#taken + 1] = id
                  taken[#taken + 1] = fields
                  if isolated then stopped = true end
                  return not stopped
                end
                if starve > 0 then
                  for _, queue in ipairs(queues) do
                    for level = 2, #queue.lists do
                      local list = queue.lists[level]
                      while #taken < 2 * limit do
                        local id = redis.call('LINDEX', list, -1)
                        if not id then break end
                        local times = redis.pcall('HMGET', K.data(id), 'c', 'r')
                        if times.err then times = {} end
                        local readyAt = math.max(tonumber(times[1]) or 0, tonumber(times[2]) or 0)
                        if now - readyAt < starve or stopped then break end
                        take(list)
                      end
                    end
                  end
                end
                for _, queue in ipairs(queues) do
                  for _, list in ipairs(queue.lists) do
                    while not stopped and #taken < 2 * limit and take(list) do end
                    if stopped then break end
                  end
                  if stopped or #taken >= 2 * limit then break end
                end
                if not stopped or isolated then
                  for _, queue in ipairs(queues) do
                    for _, list in ipairs(queue.lists) do
                      if redis.call('LLEN', list) > 0 then
                        signal(K.wake(queue.name))
                        break
                      end
                    end
                  end
                end
              end
              local nextDue = redis.call('ZRANGE', K.delayed, 0, 0, 'WITHSCORES')
              return {nextDue[2] or -1, taken}
            end
            -- A new job's place: its ready list (when the script ends) or, with a run-at time, the delayed
            -- set. Returns whether it is ready. The caller counts it under its queue.
            local function place(id, queue, readyList, runAt)
              if runAt ~= '0' then
                event(id, '', 'scheduled')
                schedule(id, queue, runAt, 'scheduled')
                return false
              end
              event(id, '', 'pending')
              pushReady(readyList, id)
              return true
            end
            -- A new job whose field/value items are ARGV[first..last], stored and placed.
            local function storeJob(id, queue, priority, runAt, first, last)
              redis.call('HSET', K.data(id), unpack(ARGV, first, last))
              return place(id, queue, K.ready(queue, priority), runAt)
            end
            -- Counts new jobs under their queue, and wakes its workers when some are ready.
            local function admitted(queue, count, ready)
              redis.call('INCRBY', K.unfinished(queue), count)
              redis.call('SADD', K.queues, queue)
              if ready then signal(K.wake(queue)) end
            end

            """

        /// A script made of the shared steps and `body`; the status changes `body` records are appended to
        /// the event stream when it returns.
        static func script(_ body: String) -> RedisScript {
            RedisScript(library + "local function main()\n" + body + "\nend\nlocal result = main()\nflushReady()\nflushEvents()\nreturn result\n")
        }

        /// Stores new jobs, each in its ready list or the delayed set, each checked on its own: a full
        /// queue or a held unique key refuses that job and writes nothing for it.
        ///
        /// The jobs come in runs that share their values: turning each argument into a Lua string is most of
        /// the script's cost, and the jobs of a batch nearly always share their name, queue and options.
        /// ARGV: prefix, number of runs, then per run: name, queue, priority, max retries, max jobs (0 = none),
        /// unique ms, extended (1/0), number of jobs, then per job: id, created ms, payload, and for an
        /// extended run also run-at ms (0 = now), unique key ('' = none), number of further field/value
        /// items, those items. The status is `scheduled` with a run-at time, else `pending`.
        /// Returns one answer per job: `1` stored, `D<holder id>` duplicate, `F` queue full, `X` id taken.
        static let enqueue = script(
            """
            local answers = {}
            -- Per queue, counted once per call: the unfinished count (read only for a queue with max jobs),
            -- the jobs stored, and whether its workers were woken.
            local unfinished, added, woken = {}, {}, {}
            local runs = tonumber(ARGV[2])
            -- Ids are new in nearly every call: one EXISTS over all of them settles that, and only a call in
            -- which some id is taken checks its jobs one by one. `seen` catches an id given twice in one call.
            local dataKeys, seen = {}, {}
            local at, n = 3, 0
            for _ = 1, runs do
              local extended, count = ARGV[at + 6] == '1', tonumber(ARGV[at + 7])
              at = at + 8
              for _ = 1, count do
                n = n + 1
                dataKeys[n] = K.data(ARGV[at])
                at = extended and at + 6 + tonumber(ARGV[at + 5]) or at + 3
              end
            end
            local someTaken = n > 0 and redis.call('EXISTS', unpack(dataKeys)) > 0
            at, n = 3, 0
            for _ = 1, runs do
              local name, queue, priority, maxRetries = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
              local maxJobs, uniqueMs, extended = tonumber(ARGV[at + 4]), ARGV[at + 5], ARGV[at + 6] == '1'
              local count, ready = tonumber(ARGV[at + 7]), K.ready(queue, priority)
              at = at + 8
              added[queue] = added[queue] or 0
              if maxJobs > 0 and not unfinished[queue] then
                unfinished[queue] = tonumber(redis.call('GET', K.unfinished(queue)) or '0')
              end
              for _ = 1, count do
                n = n + 1
                local id, created, payload = ARGV[at], ARGV[at + 1], ARGV[at + 2]
                local runAt, uniqueKey, first, last = '0', '', at + 6, at + 5
                if extended then
                  runAt, uniqueKey = ARGV[at + 3], ARGV[at + 4]
                  last = last + tonumber(ARGV[at + 5])
                  at = last + 1
                else
                  at = at + 3
                end
                local holder = uniqueKey ~= '' and redis.call('GET', K.unique(uniqueKey))
                if maxJobs > 0 and unfinished[queue] + added[queue] >= maxJobs then
                  answers[n] = 'F'
                elseif holder then
                  answers[n] = 'D' .. holder
                elseif seen[id] or (someTaken and redis.call('EXISTS', dataKeys[n]) == 1) then
                  answers[n] = 'X'
                else
                  seen[id] = true
                  if uniqueKey ~= '' then redis.call('SET', K.unique(uniqueKey), id, 'PX', uniqueMs) end
                  redis.call('HSET', dataKeys[n], 'n', name, 'q', queue, 'p', priority,
                    's', runAt == '0' and 'pending' or 'scheduled', 'm', maxRetries, 'c', created, 'd', payload,
                    unpack(ARGV, first, last))
                  if place(id, queue, ready, runAt) then woken[queue] = true end
                  added[queue] = added[queue] + 1
                  answers[n] = '1'
                end
              end
            end
            for queue, stored in pairs(added) do
              if stored > 0 then admitted(queue, stored, woken[queue]) end
            end
            return answers
            """)

        /// Promotes due jobs, then moves up to `limit` ready ids of unpaused queues into the worker's
        /// processing list, marks them processing and returns their hashes (see `fetchJobs`).
        ///
        /// KEYS: processing list
        /// ARGV: prefix, limit, now ms (0: Redis's clock, for a fetch sent long before it runs), worker id,
        /// starvation limit ms (0 = strict), most jobs to promote, queue names...
        /// Returns `{next due ms or -1, {id, {field, value, ...}, id, {...}, ...}, now ms}`.
        static let fetch = script(
            """
            local now = tonumber(ARGV[3])
            if now == 0 then
              local time = redis.call('TIME')
              now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
            end
            local fetched = fetchJobs(KEYS[1], tonumber(ARGV[2]), now, ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), {unpack(ARGV, 7)})
            return {fetched[1], fetched[2], now}
            """)

        /// Completes a job if the worker still holds it.
        ///
        /// KEYS: processing list, job hash
        /// ARGV: prefix, id, finished ms, retention seconds, has result (1/0), result, queue, unique key ('' = none)
        /// Returns 1, or 0 when the worker does not hold the job.
        static let complete = script(
            """
            return completeOne(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
            """)
    }
}

extension RedisJobQueue.Scripts {
    /// Records a failed attempt: back to the delayed set for a retry, or dead.
    ///
    /// KEYS: processing list, job hash
    /// A job whose cancel was requested while it ran ends cancelled instead.
    ///
    /// ARGV: prefix, id, now ms, error, retry-at ms (0 = dead), dead retention seconds, queue, unique key,
    /// completed retention seconds
    /// Returns 1 (will retry), 2 (dead), 3 (cancelled) or 0 when the worker does not hold the job.
    static let fail = script(
        """
        return failOne(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
        """)

    /// Puts jobs a worker holds back at the front of their ready lists, undoing the attempt count.
    ///
    /// KEYS: processing list
    /// ARGV: prefix, ids...
    /// Returns how many were put back.
    static let requeue = script(
        """
        local count = 0
        for i = 2, #ARGV do count = count + requeueOne(KEYS[1], ARGV[i]) end
        return count
        """)

    /// Moves due jobs from the delayed set to their ready lists and tells when the next one is due.
    ///
    /// ARGV: prefix, now ms, limit
    /// Returns `{promoted, next due ms or -1}`.
    static let promote = script(
        """
        local due = redis.call('ZRANGE', K.delayed, '-inf', ARGV[2], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
        local promoted = 0
        for _, id in ipairs(due) do
          redis.call('ZREM', K.delayed, id)
          if makeReady(id, false) then promoted = promoted + 1 end
        end
        local next = redis.call('ZRANGE', K.delayed, 0, 0, 'WITHSCORES')
        return {promoted, next[2] or -1}
        """)

    /// Puts back every id in a worker's processing list that is not among those it runs.
    ///
    /// KEYS: processing list
    /// ARGV: prefix, ids the worker runs...
    /// Returns how many were put back.
    static let reconcile = script(
        """
        local running = {}
        for i = 2, #ARGV do running[ARGV[i]] = true end
        local count = 0
        for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
          if not running[id] then
            redis.call('LREM', KEYS[1], 0, id)
            if makeReady(id, true) then
              local key = K.data(id)
              if tonumber(redis.call('HINCRBY', key, 'a', -1)) < 0 then redis.call('HSET', key, 'a', 0) end
              count = count + 1
            end
          end
        end
        return count
        """)

    /// Makes a job dead whose stored hash cannot be read as a job, so a bad entry neither blocks the worker
    /// nor comes back. Its queue is read from the hash when it names one, else `fallback queue`. A key that
    /// holds another type than a hash is no job: it is replaced by the dead job's record. An id without any
    /// key gets such a record too, so every bad entry can be found among the dead with its reason; neither
    /// was counted as an unfinished job.
    ///
    /// KEYS: processing list, job hash
    /// ARGV: prefix, id, now ms, reason, dead retention seconds, fallback queue
    /// Returns 1, or 0 when the worker does not hold the job.
    static let buryUnreadable = script(
        """
        if redis.call('LREM', KEYS[1], 1, ARGV[2]) == 0 then return 0 end
        local kind = redis.call('TYPE', KEYS[2]).ok
        local fields = {}
        if kind == 'hash' then
          fields = redis.call('HMGET', KEYS[2], 'q', 'u')
        elseif kind ~= 'none' then
          redis.call('DEL', KEYS[2])
        end
        local queue = fields[1]
        if not queue or #queue > 64 or not string.match(queue, '^[A-Za-z0-9_.-]+$') then queue = ARGV[6] end
        bury(ARGV[2], queue, ARGV[3], ARGV[5], ARGV[4])
        if kind == 'hash' then release(queue, fields[2], ARGV[2]) end
        return 1
        """)

    /// Cancels a waiting job: out of its ready list or the delayed set, status `cancelled`.
    ///
    /// KEYS: job hash
    /// A running job is flagged, and its worker told through its control list; it ends cancelled when the
    /// worker has stopped it.
    ///
    /// ARGV: prefix, id, now ms, retention seconds
    /// Returns `{1}` when cancelled, `{3}` when its worker was told, `{0}` when there is no such job,
    /// `{2, status}` when it has finished.
    static let cancel = script(
        """
        local fields = redis.call('HMGET', KEYS[1], 's', 'q', 'p', 'u', 'w')
        local status, queue = fields[1], fields[2]
        if not status then return {0} end
        if status == 'processing' and fields[5] then
          redis.call('HSET', KEYS[1], 'x', 1)
          redis.call('RPUSH', K.control(fields[5]), ARGV[2])
          redis.call('PEXPIRE', K.control(fields[5]), 3600000)
          return {3}
        end
        if status == 'pending' then
          redis.call('LREM', K.ready(queue, fields[3]), 1, ARGV[2])
        elseif status == 'scheduled' or status == 'failed' then
          redis.call('ZREM', K.delayed, ARGV[2])
          redis.call('HINCRBY', K.counts(queue), status == 'scheduled' and 'scheduled' or 'retrying', -1)
        else
          return {2, status}
        end
        finishCancelled(ARGV[2], queue, fields[4], ARGV[3], ARGV[4], status)
        return {1}
        """)

    /// Puts a dead job back in its ready list.
    ///
    /// KEYS: job hash
    /// ARGV: prefix, id
    /// Returns `{1}` when requeued, `{0}` when there is no such job, `{2, status}` when it is not dead.
    static let retryDead = script(
        """
        local fields = redis.call('HMGET', KEYS[1], 's', 'q')
        if not fields[1] then return {0} end
        if fields[1] ~= 'dead' then return {2, fields[1]} end
        redis.call('ZREM', K.dead(fields[2]), ARGV[2])
        redis.call('PERSIST', KEYS[1])
        redis.call('HSET', KEYS[1], 'a', 0, 'k', 0)
        redis.call('HDEL', KEYS[1], 'f')
        redis.call('INCR', K.unfinished(fields[2]))
        makeReady(ARGV[2], false)
        return {1}
        """)
}

extension RedisJobQueue.Scripts {
    /// Leaves a marker in a worker's own wake-up list, which ends its wait; the list expires in a minute,
    /// so a marker nobody took does not stay.
    ///
    /// KEYS: the worker's wake-up list
    static let interruptWait = RedisScript(
        """
        redis.call('RPUSH', KEYS[1], 1)
        redis.call('PEXPIRE', KEYS[1], 60000)
        return 1
        """)

    /// Ends a running job whose cancel its worker carried out.
    ///
    /// KEYS: processing list
    /// ARGV: prefix, id, now ms, retention seconds, queue, unique key
    /// Returns 1, or 0 when the worker does not hold the job.
    static let markCancelled = script(
        """
        return cancelOne(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
        """)
}

extension RedisJobQueue.Scripts {
    /// Records how several attempts ended and takes the next jobs, in one step: the worker pool's round
    /// trip. Each outcome is one of complete (`c`), fail (`f`), cancelled (`x`) and put back (`r`).
    ///
    /// KEYS: processing list
    /// ARGV: prefix, worker id, now ms, completed retention s, dead retention s, fetch limit, starvation
    /// limit ms, most jobs to promote, number of outcomes, then per outcome: kind, id, queue, unique key,
    /// result or error, has result (1/0) or retry-at ms; then the queue names
    /// Returns `{{answer per outcome}, next due ms or -1, {id, {fields}, ...}}`; answers are those of the
    /// complete (1/0), fail (1/2/3/0), cancel (1/0) and requeue (1/0) scripts.
    static let settle = script(
        """
        local processing, now = KEYS[1], ARGV[3]
        local count = tonumber(ARGV[9])
        local answers = {}
        for i = 0, count - 1 do
          local at = 10 + 6 * i
          local kind, id, queue, unique, text, extra = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4], ARGV[at + 5]
          if kind == 'c' then
            answers[i + 1] = completeOne(processing, id, now, ARGV[4], extra, text, queue, unique)
          elseif kind == 'f' then
            answers[i + 1] = failOne(processing, id, now, text, extra, ARGV[5], queue, unique, ARGV[4])
          elseif kind == 'x' then
            answers[i + 1] = cancelOne(processing, id, now, ARGV[4], queue, unique)
          else
            answers[i + 1] = requeueOne(processing, id)
          end
        end
        local fetched = fetchJobs(processing, tonumber(ARGV[6]), tonumber(now), ARGV[2], tonumber(ARGV[7]), tonumber(ARGV[8]),
          {unpack(ARGV, 10 + 6 * count)})
        return {answers, fetched[1], fetched[2]}
        """)
}

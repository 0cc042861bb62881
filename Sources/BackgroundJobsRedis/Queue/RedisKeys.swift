public import BackgroundJobsDomain

/// Every Redis key the job system uses, built from one prefix. No other file spells a key.
///
/// With the default prefix `jobs` the keys are `jobs:queue:<queue>:<priority>`, `jobs:delayed`,
/// `jobs:data:<id>` and so on. A prefix in braces, such as `{jobs}`, puts every key in one Redis Cluster
/// hash slot, so each Lua script may touch any of them.
public struct RedisKeys: Sendable, Hashable {
    /// The prefix every key starts with.
    public let prefix: String

    /// Keys under `prefix`; it must be non-empty and free of spaces and line breaks.
    public init(prefix: String = "jobs") throws(RedisError) {
        guard !prefix.isEmpty, !prefix.unicodeScalars.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }) else {
            throw RedisError(.invalidConfiguration, "the key prefix must be non-empty and free of white space")
        }
        self.prefix = prefix
    }

    /// The list of ready job ids of one queue and priority.
    public func ready(_ queue: QueueName, _ priority: JobPriority) -> String {
        "\(prefix):queue:\(queue.rawValue):\(priority.rawValue)"
    }

    /// The ready lists of a queue, most urgent first: the order a worker takes jobs in.
    public func readyLists(_ queue: QueueName) -> [String] {
        JobPriority.mostUrgentFirst.map { ready(queue, $0) }
    }

    /// The sorted set of jobs waiting for a time (delays, run-at times, retries), scored by due time in ms.
    public var delayed: String { "\(prefix):delayed" }

    /// The hash that holds one job.
    public func data(_ id: JobID) -> String { "\(prefix):data:\(id.rawValue)" }

    /// The hash of a job whose id was read from Redis and is not a valid ``JobID``, to clear it away.
    public func data(unreadable id: String) -> String { "\(dataPrefix)\(id)" }

    /// What every job hash's key starts with.
    public var dataPrefix: String { "\(prefix):data:" }

    /// The list of job ids one worker process holds.
    public func processing(worker: String) -> String { "\(prefix):processing:\(worker)" }

    /// The sorted set of dead jobs of a queue, scored by the time they died.
    public func dead(_ queue: QueueName) -> String { "\(prefix):failed:\(queue.rawValue)" }

    /// A worker process's heartbeat; it expires when the process stops refreshing it.
    public func heartbeat(worker: String) -> String { "\(prefix):worker:\(worker)" }






    /// The wake-up list of a queue: it holds one marker while the queue may have ready jobs that no
    /// worker has noticed, so idle workers block on it instead of polling.
    public func wake(_ queue: QueueName) -> String { "\(wakePrefix)\(queue.rawValue)" }

    /// What every wake-up list's key starts with; scripts append the queue name, as ``wake(_:)`` does.
    public var wakePrefix: String { "\(prefix):wake:" }

    /// The wake-up list that tells idle workers the earliest waiting job changed, so they wait less long.
    /// `@` cannot appear in a queue name, so this key never meets a queue's.
    public var timerWake: String { "\(wakePrefix)@delayed" }

    /// The wake-up list of one worker: a stopping pool ends its own wait with a marker here.
    public func wake(worker: String) -> String { "\(wakePrefix)@worker:\(worker)" }

    /// The hash of recurring job definitions, by id.
    public var recurring: String { "\(prefix):recurring" }

    /// The sorted set of unpaused recurring jobs by next firing time in ms.
    public var recurringNext: String { "\(prefix):recurring:next" }

    /// The hash of the firing time each recurring job last claimed, by id: the exactly-once guard.
    public var recurringLast: String { "\(prefix):recurring:last" }

    /// The set of paused recurring job ids.
    public var recurringPaused: String { "\(prefix):recurring:paused" }

    /// The sorted set of a queue's completed jobs by finish time, trimmed to the completed retention.
    public func completed(_ queue: QueueName) -> String { "\(prefix):completed:\(queue.rawValue)" }

    /// The sorted set of a queue's cancelled jobs by cancel time, trimmed to the completed retention.
    public func cancelled(_ queue: QueueName) -> String { "\(prefix):cancelled:\(queue.rawValue)" }

    /// The hash of a queue's counts that no list or set holds: jobs `scheduled` and jobs `retrying`.
    public func counts(_ queue: QueueName) -> String { "\(prefix):counts:\(queue.rawValue)" }

    /// The set of every queue that has had a job.
    public var queues: String { "\(prefix):queues" }

    /// The set of paused queues: they are not fetched from.
    public var paused: String { "\(prefix):paused" }

    /// The list through which a worker process is told to stop running jobs (their ids), for cancels.
    public func control(worker: String) -> String { "\(prefix):control:\(worker)" }

    /// The capped stream of status changes: job id, from, to; the entry id carries the time.
    public var events: String { "\(prefix):events" }

    /// The set of worker processes that have registered, live or not.
    public var workers: String { "\(prefix):workers" }

    /// Registered workers whose heartbeat a reaper found missing, with when it first did (ms, Redis's clock).
    public var missingWorkers: String { "\(prefix):workers:missing" }

    /// The key that keeps a second job with the same unique key out.
    public func unique(_ key: String) -> String { "\(prefix):unique:\(key)" }

    /// The count of a queue's unfinished jobs (ready, waiting or running), checked against `max_jobs`.
    public func unfinished(_ queue: QueueName) -> String { "\(prefix):unfinished:\(queue.rawValue)" }

    /// The same layout as Lua functions, for scripts that build the keys of jobs, queues and workers they
    /// only learn about while running. `keysFor(prefix)` returns a table of key names and key builders.
    static let lua = """
        local priorities = {\(JobPriority.mostUrgentFirst.map { "'\($0.rawValue)'" }.joined(separator: ", "))}
        local function keysFor(prefix)
          local p = prefix .. ':'
          return {
            ready = function(queue, priority) return p .. 'queue:' .. queue .. ':' .. priority end,
            delayed = p .. 'delayed',
            data = function(id) return p .. 'data:' .. id end,
            processing = function(worker) return p .. 'processing:' .. worker end,
            dead = function(queue) return p .. 'failed:' .. queue end,
            completed = function(queue) return p .. 'completed:' .. queue end,
            cancelled = function(queue) return p .. 'cancelled:' .. queue end,
            heartbeat = function(worker) return p .. 'worker:' .. worker end,
            control = function(worker) return p .. 'control:' .. worker end,
            events = p .. 'events',
            workers = p .. 'workers',
            wake = function(queue) return p .. 'wake:' .. queue end,
            timerWake = p .. 'wake:@delayed',
            unique = function(key) return p .. 'unique:' .. key end,
            unfinished = function(queue) return p .. 'unfinished:' .. queue end,
            counts = function(queue) return p .. 'counts:' .. queue end,
            queues = p .. 'queues',
            paused = p .. 'paused',
          }
        end

        """
}

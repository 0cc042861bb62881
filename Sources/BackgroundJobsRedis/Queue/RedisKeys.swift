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
        guard !prefix.isEmpty, !prefix.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }) else {
            throw RedisError(.invalidConfiguration, "the key prefix must be non-empty and free of white space")
        }
        self.prefix = prefix
    }

    /// The list of ready job ids of one queue and priority.
    public func ready(_ queue: QueueName, _ priority: JobPriority) -> String {
        "\(readyPrefix)\(queue.rawValue):\(priority.rawValue)"
    }

    /// What every ready list's key starts with; scripts that move a job to its ready list append
    /// `<queue>:<priority>` to it, exactly as ``ready(_:_:)`` does.
    public var readyPrefix: String { "\(prefix):queue:" }

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

    /// The prefix of job hashes, for scripts that build a job's key from its id.
    public var dataPrefix: String { "\(prefix):data:" }

    /// The list of job ids one worker process holds.
    public func processing(worker: String) -> String { "\(processingPrefix)\(worker)" }

    /// The sorted set of dead jobs of a queue, scored by the time they died.
    public func dead(_ queue: QueueName) -> String { "\(deadPrefix)\(queue.rawValue)" }

    /// A worker process's heartbeat; it expires when the process stops refreshing it.
    public func heartbeat(worker: String) -> String { "\(heartbeatPrefix)\(worker)" }

    /// What every heartbeat key starts with, for the reaper that walks the registry.
    public var heartbeatPrefix: String { "\(prefix):worker:" }

    /// What every processing list's key starts with, for the reaper.
    public var processingPrefix: String { "\(prefix):processing:" }

    /// What every dead set's key starts with; scripts append the queue name, as ``dead(_:)`` does.
    public var deadPrefix: String { "\(prefix):failed:" }

    /// What every unfinished counter's key starts with; scripts append the queue name.
    public var unfinishedPrefix: String { "\(prefix):unfinished:" }

    /// What every unique key starts with; scripts append the job's unique key.
    public var uniquePrefix: String { "\(prefix):unique:" }

    /// The wake-up list of a queue: it holds one marker while the queue may have ready jobs that no
    /// worker has noticed, so idle workers block on it instead of polling.
    public func wake(_ queue: QueueName) -> String { "\(wakePrefix)\(queue.rawValue)" }

    /// What every wake-up list's key starts with; scripts append the queue name, as ``wake(_:)`` does.
    public var wakePrefix: String { "\(prefix):wake:" }

    /// The wake-up list that tells idle workers the earliest waiting job changed, so they wait less long.
    /// `@` cannot appear in a queue name, so this key never meets a queue's.
    public var timerWake: String { "\(wakePrefix)@delayed" }

    /// The hash of recurring job definitions, by id.
    public var recurring: String { "\(prefix):recurring" }

    /// The sorted set of unpaused recurring jobs by next firing time in ms.
    public var recurringNext: String { "\(prefix):recurring:next" }

    /// The hash of the firing time each recurring job last claimed, by id: the exactly-once guard.
    public var recurringLast: String { "\(prefix):recurring:last" }

    /// The set of paused recurring job ids.
    public var recurringPaused: String { "\(prefix):recurring:paused" }

    /// The set of worker processes that have registered, live or not.
    public var workers: String { "\(prefix):workers" }

    /// The key that keeps a second job with the same unique key out.
    public func unique(_ key: String) -> String { "\(uniquePrefix)\(key)" }

    /// The count of a queue's unfinished jobs (ready, waiting or running), checked against `max_jobs`.
    public func unfinished(_ queue: QueueName) -> String { "\(unfinishedPrefix)\(queue.rawValue)" }
}

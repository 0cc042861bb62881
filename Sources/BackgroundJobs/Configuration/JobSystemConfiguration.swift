import BackgroundJobsCore
public import BackgroundJobsDomain

/// Everything a job system is built from: seed 003's `jobs` section and its `queues`. Every value has the
/// seed's default; ``init(yaml:source:)`` reads a file and ``applyingEnvironment(_:)`` applies overrides.
public struct JobSystemConfiguration: Sendable {
    /// Where Redis is.
    public struct Redis: Sendable {
        /// A `redis://` or `unix://` URL; when set it wins over `addr`, `password` and `db`.
        public var url: String?
        /// `host:port`; by default `localhost:6379`.
        public var addr: String = "localhost:6379"
        /// The password, if the server asks for one.
        public var password: String?
        /// The database number; by default 0.
        public var db: Int = 0
        /// What every key starts with; by default `jobs`.
        public var keyPrefix: String = "jobs"

        public init() {}

        /// The URL the client connects to.
        public var effectiveURL: String {
            if let url { return url }
            let credentials = password.map { ":\($0.addingURLEscapes)@" } ?? ""
            return "redis://\(credentials)\(addr)/\(db)"
        }
    }

    /// How workers run.
    public struct WorkerPool: Sendable {
        /// Jobs one process runs at once; by default 5.
        public var workerCount: Int = 5
        /// Retries of a job whose type and options name none; by default 3.
        public var maxRetries: Int = 3
        /// The first retry's delay (later ones double, up to 30 s or this, whichever is more); 5 s.
        public var retryDelay: Duration = .seconds(5)
        /// How long a shutdown waits for running jobs; by default 25 s.
        public var shutdownTimeout: Duration = .seconds(25)
        /// The queues served, most important first; by default every configured queue in file order.
        public var queues: [QueueName]?
        /// Where handlers run: the global executor (the default) or the Redis connections' threads.
        public var handlerPlacement: JobWorkerPool.HandlerPlacement = .globalExecutor
        /// A job whose worker died more often than this while holding it is dead; by default 1.
        public var stallLimit: Int = 1
        /// How often a worker refreshes its heartbeat; by default 5 s.
        public var heartbeatInterval: Duration = .seconds(5)
        /// How long a heartbeat lives: a worker silent this long is dead and its jobs are taken over; 15 s.
        public var heartbeatTTL: Duration = .seconds(15)
        /// How often each worker process looks for dead workers; by default 5 s.
        public var reaperInterval: Duration = .seconds(5)

        public init() {}
    }

    /// Recurring jobs and clean-up.
    public struct Scheduler: Sendable {
        /// Whether this process fires recurring jobs; by default true.
        public var enabled: Bool = true
        /// How often finished jobs past their retention are swept; by default one minute.
        public var cleanupInterval: Duration = .seconds(60)

        public init() {}
    }

    /// Prometheus metrics.
    public struct Metrics: Sendable {
        /// Whether metrics are recorded; by default true.
        public var enabled: Bool = true
        /// How often queue sizes are read from Redis; by default 30 s.
        public var collectionInterval: Duration = .seconds(30)
        /// The prefix of every metric name; by default `background_jobs`.
        public var namespace: String = "background_jobs"

        public init() {}
    }

    /// Whether the job system runs at all; by default true.
    public var enabled: Bool = true
    public var redis = Redis()
    public var workerPool = WorkerPool()
    public var scheduler = Scheduler()
    public var metrics = Metrics()
    /// The queues with their rules, in the order given; by default seed 003's four.
    public var queues: [QueueDefinition] = JobSystemConfiguration.seedQueues
    /// Recurring jobs the file defines; ``JobSystem/installSchedules()`` stores them.
    public var schedules: [RecurringJob] = []

    /// The defaults.
    public init() {}

    /// Seed 003's queues: `default` (every priority, 1,000 jobs), `email` (normal and high, 5,000),
    /// `file_processing` (low and normal, 100) and `cleanup` (low, 50).
    public static let seedQueues: [QueueDefinition] = [
        try! QueueDefinition(name: "default", maxJobs: 1000),
        try! QueueDefinition(name: "email", priorities: [.normal, .high], maxJobs: 5000),
        try! QueueDefinition(name: "file_processing", priorities: [.low, .normal], maxJobs: 100),
        try! QueueDefinition(name: "cleanup", priorities: [.low], maxJobs: 50),
    ]

    /// The queues the worker pool serves, in order.
    public var servedQueues: [QueueName] {
        workerPool.queues ?? (queues.isEmpty ? [.default] : queues.map(\.name))
    }

    /// The retry policy of job types that register none.
    public var retryPolicy: RetryPolicy {
        .exponential(
            initialDelay: workerPool.retryDelay, factor: 2, maxDelay: max(.seconds(30), workerPool.retryDelay),
            maxRetries: workerPool.maxRetries, jitter: 0.1)
    }
}

/// A configuration that cannot be used, with the key (and line) at fault.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A sentence naming the key, its place, and what is wrong.
    public var message: String

    /// An error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

extension String {
    /// The string with the characters that are not allowed in a URL's user-info percent-encoded.
    fileprivate var addingURLEscapes: String {
        var result = ""
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded
            }
        }
        return result
    }

    fileprivate var leftPadded: String { count == 1 ? "0" + self : self }
}

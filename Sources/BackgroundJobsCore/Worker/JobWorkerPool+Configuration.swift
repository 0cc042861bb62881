public import BackgroundJobsDomain

extension JobWorkerPool {
    /// How a worker pool runs; every value has the default of the design (seed 003, and Sidekiq where
    /// the seed says nothing).
    public struct Configuration: Sendable {
        /// The queues served and their order; by default the `default` queue.
        public var queues: QueueSelection
        /// Jobs run at once; by default 5.
        public var concurrency: Int
        /// Jobs fetched ahead of free slots, so a slot that finishes starts its next job without waiting
        /// for a round trip; by default as many as `concurrency`. They are held (and safe) in this worker's
        /// processing list meanwhile, and put back at a shutdown. 0 fetches only for free slots.
        public var prefetch: Int?
        /// The id of this worker process; `nil` makes one from the host name, process id and a random part,
        /// so a restarted process never takes the identity (and the jobs) of its former self.
        public var workerID: WorkerID?
        /// How often the heartbeat is refreshed; by default every 5 seconds.
        public var heartbeatInterval: Duration
        /// How long a heartbeat lives: a worker silent this long is dead and its jobs are taken over.
        /// By default 15 seconds.
        public var heartbeatTTL: Duration
        /// How often this process looks for dead workers; by default every 5 seconds.
        public var reaperInterval: Duration
        /// A job whose worker died more than this many times while running it is dead, so a job that
        /// crashes its process cannot loop forever; by default 1.
        public var stallLimit: Int
        /// How failed attempts are retried when the job type registers no policy of its own.
        public var retry: RetryPolicy
        /// How long one attempt may run when the job names no timeout; `nil` for no limit.
        public var defaultTimeout: Duration?
        /// With a value, a less urgent job ready this long is served before more urgent ones; `nil` (the
        /// default) keeps strict priority order.
        public var starvationLimit: Duration?
        /// The longest an idle pool waits before it looks again; new jobs wake it at once. By default 2 s.
        public var idleTimeout: Duration
        /// How long a shutdown waits for running jobs before it cancels them; by default 25 seconds.
        public var shutdownTimeout: Duration
        /// How long a cancelled handler may take to end before its job is put back anyway.
        public var cancellationGrace: Duration
        /// How often the pool checks that it holds no job it does not run; by default every minute.
        public var reconcileInterval: Duration
        /// How often the pool trims the indexes of finished jobs past their retention (seed 003's
        /// `cleanup_interval`); by default every minute.
        public var sweepInterval: Duration
        /// Where handlers run; by default on Swift's global concurrent executor.
        public var handlerPlacement: HandlerPlacement

        /// A configuration; see each property for its default.
        public init(
            queues: QueueSelection? = nil,
            concurrency: Int = 5,
            prefetch: Int? = nil,
            workerID: WorkerID? = nil,
            heartbeatInterval: Duration = .seconds(5),
            heartbeatTTL: Duration = .seconds(15),
            reaperInterval: Duration = .seconds(5),
            stallLimit: Int = 1,
            retry: RetryPolicy = .default,
            defaultTimeout: Duration? = nil,
            starvationLimit: Duration? = nil,
            idleTimeout: Duration = .seconds(2),
            shutdownTimeout: Duration = .seconds(25),
            cancellationGrace: Duration = .seconds(1),
            reconcileInterval: Duration = .seconds(60),
            sweepInterval: Duration = .seconds(60),
            handlerPlacement: HandlerPlacement = .globalExecutor
        ) {
            // `.strict([.default])` cannot fail: one valid queue.
            self.queues = queues ?? (try! .strict([.default]))
            self.concurrency = concurrency
            self.prefetch = prefetch
            self.workerID = workerID
            self.heartbeatInterval = heartbeatInterval
            self.heartbeatTTL = heartbeatTTL
            self.reaperInterval = reaperInterval
            self.stallLimit = stallLimit
            self.retry = retry
            self.defaultTimeout = defaultTimeout
            self.starvationLimit = starvationLimit
            self.idleTimeout = idleTimeout
            self.shutdownTimeout = shutdownTimeout
            self.cancellationGrace = cancellationGrace
            self.reconcileInterval = reconcileInterval
            self.sweepInterval = sweepInterval
            self.handlerPlacement = handlerPlacement
        }

        /// Checks that the values work together.
        public func validate() throws(JobError) {
            func fail(_ message: String) -> JobError { JobError(.invalidOptions, message) }
            guard concurrency >= 1 else { throw fail("the worker concurrency must be at least 1") }
            if let prefetch, prefetch < 0 { throw fail("the prefetch must not be negative") }
            guard heartbeatInterval > .zero, heartbeatTTL > heartbeatInterval else {
                throw fail("the heartbeat TTL must be longer than the heartbeat interval")
            }
            guard reaperInterval > .zero, idleTimeout > .zero, reconcileInterval > .zero, sweepInterval > .zero else {
                throw fail("the reaper, idle, reconcile and sweep intervals must be positive")
            }
            guard stallLimit >= 0 else { throw fail("the stall limit must not be negative") }
            guard shutdownTimeout >= .zero, cancellationGrace >= .zero else {
                throw fail("the shutdown timeout and cancellation grace must not be negative")
            }
            if let defaultTimeout, defaultTimeout <= .zero { throw fail("the default job timeout must be positive") }
            if let starvationLimit, starvationLimit <= .zero { throw fail("the starvation limit must be positive") }
            try retry.validate()
        }
    }

    /// Where a pool runs its handlers. The pool's own work (fetching, recording outcomes) runs on the
    /// queue's I/O threads whenever the queue offers them (`JobQueue.taskExecutors`).
    public struct HandlerPlacement: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: Hashable { case globalExecutor, queueThreads, dedicatedThreads }
        private let kind: Kind

        /// Swift's global concurrent executor: a handler may compute or block for as long as it likes
        /// without holding up anything but its own slot.
        public static let globalExecutor = HandlerPlacement(kind: .globalExecutor)
        /// The queue's I/O threads (for Redis, the threads of the client's connections), where the
        /// replies to a handler's own Redis commands arrive, so they resume it without a hand-off between
        /// threads: the fastest choice for short handlers that mostly talk to Redis (about a third more
        /// jobs/s in `jobs-bench process`). A handler that computes or blocks holds up every command of
        /// its connection meanwhile, those of other slots too; heartbeats have a connection of their own.
        public static let queueThreads = HandlerPlacement(kind: .queueThreads)
        /// A thread of its own for each slot: a handler may block that thread for as long as it likes, even
        /// past its time limit while ignoring the cancel (the slot then goes on with a new thread), without
        /// holding up other handlers or the pool. Choose it for handlers that make blocking calls; the
        /// global executor has only as many threads as cores, and blocked ones stall every handler there.
        public static let dedicatedThreads = HandlerPlacement(kind: .dedicatedThreads)

        /// The placement a configuration file names: `global_executor`, `queue_threads` or `dedicated_threads`.
        public init?(name: String) {
            switch name {
            case "global_executor": self = .globalExecutor
            case "queue_threads": self = .queueThreads
            case "dedicated_threads": self = .dedicatedThreads
            default: return nil
            }
        }

        private init(kind: Kind) { self.kind = kind }

        public var description: String {
            switch kind {
            case .globalExecutor: "global_executor"
            case .queueThreads: "queue_threads"
            case .dedicatedThreads: "dedicated_threads"
            }
        }
    }
}

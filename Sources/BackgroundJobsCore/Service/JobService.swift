public import BackgroundJobsDomain

// Full Foundation for JSONSerialization, which checks JSON from outside without a schema.
public import Foundation

/// The application service: what an application calls to submit and look up jobs.
///
/// Every submission is checked before anything is stored: the options, the payload's size (and, for
/// JSON that arrives over HTTP, that it is JSON), and whether the queue takes the priority.
public struct JobService: Sendable {
    /// Rules that apply to every submission.
    public struct Settings: Sendable {
        /// Retries of a job whose options and job type name none.
        public var defaultMaxRetries: Int
        /// The largest payload accepted, in bytes.
        public var payloadSizeLimit: Int
        /// How long a unique key holds when a job names no duration.
        public var defaultUniqueFor: Duration
        /// The queues with rules of their own; a queue not listed takes every priority and has no limit.
        public var queues: [QueueName: QueueDefinition]

        /// Settings; by default 3 retries, 512 KiB payloads, unique keys held 24 hours, no queue rules.
        public init(
            defaultMaxRetries: Int = 3,
            payloadSizeLimit: Int = JobPayload.defaultSizeLimit,
            defaultUniqueFor: Duration = .seconds(24 * 3600),
            queues: [QueueDefinition] = []
        ) {
            self.defaultMaxRetries = defaultMaxRetries
            self.payloadSizeLimit = payloadSizeLimit
            self.defaultUniqueFor = defaultUniqueFor
            self.queues = Dictionary(queues.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        }
    }

    /// What became of a submission.
    public enum Submission: Sendable, Hashable {
        /// The job was stored under this id.
        case submitted(JobID)
        /// An unfinished job with the same unique key exists; nothing was stored.
        case duplicate(of: JobID)
    }

    let queue: any JobQueue
    let settings: Settings
    let registry: JobRegistry?
    let metrics: any JobMetrics
    let scheduler: (any Scheduler)?
    let now: @Sendable () -> Date

    /// A service storing jobs in `queue` and recurring jobs in `scheduler`; `registry` supplies per-type
    /// retry counts, `now` the time.
    public init(
        queue: any JobQueue, scheduler: (any Scheduler)? = nil, settings: Settings = Settings(), registry: JobRegistry? = nil,
        metrics: any JobMetrics = NoJobMetrics(), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.queue = queue
        self.scheduler = scheduler
        self.settings = settings
        self.registry = registry
        self.metrics = metrics
        self.now = now
    }

    /// Submits a typed job: the payload is encoded as JSON.
    public func submit<Payload>(
        _ definition: JobDefinition<Payload>, _ payload: Payload, options: JobOptions = JobOptions()
    ) async throws -> Submission {
        let bytes: [UInt8]
        do {
            bytes = Array(try JSONEncoder().encode(payload))
        } catch {
            throw JobError(.invalidOptions, "the payload of \(definition.name) cannot be encoded as JSON: \(error)")
        }
        return try await store(name: definition.name, payload: bytes, options: options)
    }

    /// Submits a job whose payload is JSON from outside (an HTTP body): it must parse as JSON, and with a
    /// registry its job type must have a handler (see ``checkHandled(_:)``).
    public func submit(name: JobName, json payload: [UInt8], options: JobOptions = JobOptions()) async throws -> Submission {
        let (job, limits) = try prepareJSON(name: name, payload: payload, options: options)
        return submission(job, try await queue.enqueue(job, limits: limits))
    }

    /// Submits many typed jobs with the same options in one call; each is checked and stored on its own,
    /// and the answers come in the order of `payloads`. A payload that cannot be encoded or is too large
    /// fails alone, as a job a full queue refuses does; options that are not valid throw before any job is
    /// stored.
    public func submit<Payload>(
        _ definition: JobDefinition<Payload>, batch payloads: [Payload], options: JobOptions = JobOptions()
    ) async throws -> [Result<Submission, any Error>] {
        try options.validate()
        try settings.queues[options.queue]?.accept(options.priority)
        // The jobs go to the queue a slice at a time, each as soon as it is made: the next slice is encoded
        // while the queue stores the last, instead of Redis waiting for the whole batch to be encoded.
        let encoder = JSONEncoder()
        return try await mapSlices(of: payloads.count, size: Self.batchSlice, inFlight: Self.slicesInFlight) { range in
            payloads[range].map { payload in
                Result { () throws(JobError) in
                    let bytes: [UInt8]
                    do {
                        bytes = Array(try encoder.encode(payload))
                    } catch {
                        throw JobError(.invalidOptions, "a payload of \(definition.name) cannot be encoded as JSON: \(error)")
                    }
                    return try prepare(name: definition.name, payload: bytes, options: options)
                }
            }
        } run: { slice in
            try await store(slice)
        }
    }

    /// Submits jobs from outside (an HTTP batch), each with its own type, JSON payload and options. Every job
    /// is checked first, as a single submission is, and one that fails (a payload that is not JSON, bad
    /// options, a type without a handler) throws before any is stored, naming its place as `jobs[index]`.
    /// The jobs then go to the queue in order, a slice after the one before: of two jobs with one unique key
    /// the first is stored and the second is its duplicate, even when the first has finished by then. A job
    /// a full queue refuses fails alone; the answers come in the order of `entries`.
    public func submit(
        json entries: [(name: JobName, payload: [UInt8], options: JobOptions)]
    ) async throws -> [Result<Submission, any Error>] {
        var prepared: [Result<(job: Job, limits: QueueLimits), JobError>] = []
        prepared.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            do throws(JobError) {
                prepared.append(.success(try prepareJSON(name: entry.name, payload: entry.payload, options: entry.options)))
            } catch {
                throw JobError(error.code, "jobs[\(index)]: \(error.message)")
            }
        }
        var answers: [Result<Submission, any Error>] = []
        answers.reserveCapacity(entries.count)
        for start in stride(from: 0, to: prepared.count, by: Self.batchSlice) {
            answers += try await store(Array(prepared[start..<min(start + Self.batchSlice, prepared.count)]))
        }
        return answers
    }

    /// Checks a submission from outside, in the order its messages come: JSON, options, then the job type.
    private func prepareJSON(name: JobName, payload: [UInt8], options: JobOptions) throws(JobError) -> (job: Job, limits: QueueLimits) {
        do {
            _ = try JSONSerialization.jsonObject(with: Data(payload), options: [.fragmentsAllowed])
        } catch {
            throw JobError(.invalidOptions, "the payload of \(name) is not valid JSON")
        }
        let prepared = try prepare(name: name, payload: payload, options: options)
        try checkHandled(name)
        return prepared
    }

    /// Jobs of a batch handed to the queue in one call.
    static let batchSlice = 100

    /// Slices of one batch the queue stores at once.
    static let slicesInFlight = 8

    /// Stores the prepared jobs of a slice; the ones that failed to prepare keep their error.
    private func store(_ slice: [Result<(job: Job, limits: QueueLimits), JobError>]) async throws -> [Result<Submission, any Error>] {
        let prepared = slice.compactMap { try? $0.get() }
        let outcomes = try await queue.enqueue(prepared)
        guard outcomes.count == prepared.count else {
            throw JobQueueError(.corruptJob, "the queue answered \(outcomes.count) outcomes for \(prepared.count) jobs")
        }
        var next = zip(prepared, outcomes).makeIterator()
        return slice.map { entry -> Result<Submission, any Error> in
            if case .failure(let error) = entry { return .failure(error) }
            // One answer per prepared job, in order: the guard above counted them.
            let (stored, outcome) = next.next()!
            return outcome.map { self.submission(stored.job, $0) }
        }
    }

    /// Refuses a job type that the service's registry has no handler for: a job from outside that no worker
    /// could run is refused at the door, with a message, instead of dying in the queue. A service without a
    /// registry, or with one that has no handlers (a producer that knows none), takes every name.
    public func checkHandled(_ name: JobName) throws(JobError) {
        guard let registry, !registry.isEmpty, !registry.handles(name) else { return }
        throw JobError(.invalidJobName, "no handler is registered for the job type \(name)")
    }

    /// The stored job, or `nil` when there is none.
    public func job(_ id: JobID) async throws -> Job? {
        try await queue.job(id)
    }

    /// Cancels a job that has not started: it never runs.
    public func cancel(_ id: JobID) async throws -> CancelOutcome {
        try await queue.cancel(id, now: now())
    }

    /// Runs a dead job again, from its first attempt.
    public func retry(_ id: JobID) async throws -> RetryDeadOutcome {
        try await queue.retryDead(id)
    }

    private func store(name: JobName, payload: [UInt8], options: JobOptions) async throws -> Submission {
        let (job, limits) = try prepare(name: name, payload: payload, options: options)
        return submission(job, try await queue.enqueue(job, limits: limits))
    }

    /// Checks a submission and makes its job; nothing is stored yet.
    private func prepare(name: JobName, payload: [UInt8], options: JobOptions) throws(JobError) -> (job: Job, limits: QueueLimits) {
        try options.validate()
        try JobPayload.validate(payload, limit: settings.payloadSizeLimit)
        let definition = settings.queues[options.queue]
        try definition?.accept(options.priority)

        let createdAt = now()
        let maxRetries = registry?.retryPolicy(for: name)?.maxRetries ?? settings.defaultMaxRetries
        let job = Job(id: JobID.generate(at: createdAt), name: name, payload: payload, options: options, maxRetries: maxRetries, createdAt: createdAt)
        return (job, QueueLimits(maxJobs: definition?.maxJobs, uniqueFor: options.uniqueFor ?? settings.defaultUniqueFor))
    }

    private func submission(_ job: Job, _ outcome: EnqueueOutcome) -> Submission {
        switch outcome {
        case .enqueued:
            metrics.jobEnqueued(job)
            return .submitted(job.id)
        case .duplicate(let holder):
            return .duplicate(of: holder)
        }
    }
}

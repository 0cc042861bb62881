public import BackgroundJobsCore
public import BackgroundJobsDomain
public import Logging

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// The ``JobQueue`` on Redis: every change of a job is one Lua script, so it happens whole or not at all.
public struct RedisJobQueue: JobQueue {
    /// Where the keys live and how long finished jobs are kept.
    public struct Configuration: Sendable {
        /// The keys, from their prefix.
        public var keys: RedisKeys
        /// How long a completed job's status and result stay readable.
        public var completedRetention: Duration
        /// How long a dead job stays readable and re-enqueueable.
        public var deadRetention: Duration

        /// A configuration; by default prefix `jobs`, completed jobs kept 24 hours, dead jobs 7 days.
        public init(
            keys: RedisKeys? = nil,
            completedRetention: Duration = .seconds(24 * 3600),
            deadRetention: Duration = .seconds(7 * 24 * 3600)
        ) throws(RedisError) {
            if let keys { self.keys = keys } else { self.keys = try RedisKeys() }
            self.completedRetention = completedRetention
            self.deadRetention = deadRetention
            guard completedRetention >= .seconds(1), deadRetention >= .seconds(1) else {
                throw RedisError(.invalidConfiguration, "retention times must be at least one second")
            }
        }
    }

    let client: RedisClient
    /// Where the keys live and how long finished jobs are kept.
    public let configuration: Configuration
    let logger: Logger
    /// Shared by the copies of this queue, so that their single enqueues share calls.
    let coalescer = EnqueueCoalescer(maximumCalls: Self.coalescedCalls, maximumJobs: Self.enqueueChunk)

    var keys: RedisKeys { configuration.keys }

    /// A queue on `client`.
    public init(client: RedisClient, configuration: Configuration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    /// The threads of the client's pipelined connections (see ``RedisClient/taskExecutors``).
    public var taskExecutors: [any TaskExecutor] { client.taskExecutors }

    public func enqueue(_ job: Job, limits: QueueLimits) async throws -> EnqueueOutcome {
        try await coalescer.enqueue((job, limits)) { entries in try await enqueueChunk(entries[...]) }
    }

    public func enqueue(_ jobs: [(job: Job, limits: QueueLimits)]) async throws -> [Result<EnqueueOutcome, any Error>] {
        // One script call per chunk: each job is still checked and stored on its own, but the call's fixed
        // cost is shared. Chunks keep one call from holding Redis for long.
        // A few chunks in flight: the next ones are framed while Redis runs the one before.
        try await mapSlices(of: jobs.count, size: Self.enqueueChunk, inFlight: Self.chunksInFlight) { jobs[$0] } run: { chunk in
            try await enqueueChunk(chunk)
        }
    }

    /// Most jobs one enqueue call stores. Small, so that the client frames the next call while Redis runs
    /// the last (500 per call left Redis idle a third of a 1,000-job batch), and large enough that a call's
    /// fixed cost is shared by many jobs.
    static let enqueueChunk = 100

    /// Enqueue calls of one batch under way at once.
    static let chunksInFlight = 8

    /// Calls of coalesced single enqueues under way at once. One: the jobs that arrive meanwhile wait for it
    /// and go out together. With 50 tasks submitting (jobs-bench enqueue-single) one call in flight took
    /// ~27 jobs a call and 90–94k jobs/s; two took ~15 and 80k, eight ~5 and 72k, Redis then being
    /// bound by the fixed cost of each call.
    static let coalescedCalls = 1

    private func enqueueChunk(
        _ jobs: ArraySlice<(job: Job, limits: QueueLimits)>
    ) async throws -> [Result<EnqueueOutcome, any Error>] {
        var arguments = RedisArguments(capacity: 128 * jobs.count + 64)
        arguments.append(keys.prefix)
        // Runs of jobs that share their values, each sent once per run (see `Scripts.enqueue`).
        var runs: [(shape: EnqueueShape, count: Int)] = []
        for (job, limits) in jobs {
            let shape = EnqueueShape(job, limits)
            if let last = runs.last, last.shape == shape { runs[runs.count - 1].count += 1 } else { runs.append((shape, 1)) }
        }
        arguments.append(runs.count)
        var next = jobs.startIndex
        for (shape, count) in runs {
            shape.append(to: &arguments)
            arguments.append(count)
            for (job, _) in jobs[next..<next + count] {
                arguments.append(job.id.rawValue)
                arguments.append(RedisJobCodec.milliseconds(job.createdAt))
                arguments.append(job.payload)
                guard shape.extended else { continue }
                arguments.append(job.status == .scheduled ? job.scheduledAt.map(RedisJobCodec.milliseconds) ?? 0 : 0)
                arguments.append(job.uniqueKey ?? "")
                arguments.append(RedisJobCodec.optionalFieldCount(of: job))
                RedisJobCodec.appendOptionalFields(of: job, to: &arguments)
            }
            next += count
        }
        let reply = try await run(Scripts.enqueue, keys: [], arguments: arguments)
        guard let answers = reply.array, answers.count == jobs.count else {
            throw JobQueueError(.corruptJob, "enqueue got an unexpected reply")
        }
        return zip(jobs, answers).map { entry, answer -> Result<EnqueueOutcome, any Error> in
            let text = answer.string ?? ""
            switch text.first {
            case "1":
                return .success(.enqueued)
            case "D":
                guard let holder = try? JobID(String(text.dropFirst())) else {
                    return .failure(JobQueueError(.corruptJob, "the unique key of job \(entry.job.id) is held by a value that is not a job id"))
                }
                return .success(.duplicate(of: holder))
            case "F":
                let limit = entry.limits.maxJobs ?? 0
                return .failure(JobQueueError(.queueFull, "the queue holds its maximum of \(limit) unfinished jobs"))
            default:
                return .failure(JobQueueError(.corruptJob, "a job with the id \(entry.job.id) exists already"))
            }
        }
    }

    public func fetch(
        for worker: WorkerID, from queues: [QueueName], limit: Int, starvationLimit: Duration?, now: Date
    ) async throws -> FetchResult {
        let processing = keys.processing(worker: worker.rawValue)
        let reply = try await run(
            Scripts.fetch, keys: [processing],
            arguments: fetchArguments(for: worker, from: queues, limit: limit, starvationLimit: starvationLimit, now: RedisJobCodec.milliseconds(now)))
        return try await fetched(reply, processing: processing, now: now)
    }

    /// The fetch script's arguments; `now` 0 makes it read the time from Redis.
    private func fetchArguments(
        for worker: WorkerID, from queues: [QueueName], limit: Int, starvationLimit: Duration?, now: Int
    ) -> [any RedisArgument] {
        [keys.prefix, max(0, limit), now, worker.rawValue, Self.milliseconds(starvationLimit), Self.promotionBatch] + queues.map(\.rawValue)
    }

    /// A starvation limit as the scripts take it: milliseconds, at least 1, or 0 for strict priority order.
    private static func milliseconds(_ starvationLimit: Duration?) -> Int {
        starvationLimit.map { max(1, Int($0.timeInterval * 1000)) } ?? 0
    }

    public func settle(
        _ settlements: [(job: Job, settlement: Settlement)], by worker: WorkerID, fetching limit: Int, from queues: [QueueName],
        starvationLimit: Duration?, now: Date
    ) async throws -> (outcomes: [SettlementOutcome], fetched: FetchResult) {
        let processing = keys.processing(worker: worker.rawValue)
        var arguments = RedisArguments(capacity: 64 * settlements.count + 256)
        arguments.append(keys.prefix)
        arguments.append(worker.rawValue)
        arguments.append(RedisJobCodec.milliseconds(now))
        arguments.append(Int(configuration.completedRetention.timeInterval))
        arguments.append(Int(configuration.deadRetention.timeInterval))
        arguments.append(max(0, limit))
        arguments.append(Self.milliseconds(starvationLimit))
        arguments.append(Self.promotionBatch)
        arguments.append(settlements.count)
        for (job, settlement) in settlements {
            let kind: String
            switch settlement {
            case .completed: kind = "c"
            case .failed: kind = "f"
            case .cancelled: kind = "x"
            case .putBack: kind = "r"
            }
            arguments.append(kind)
            arguments.append(job.id.rawValue)
            arguments.append(job.queue.rawValue)
            arguments.append(job.uniqueKey ?? "")
            switch settlement {
            case .completed(let result):
                arguments.append(result ?? [])
                arguments.append(result == nil ? 0 : 1)
            case .failed(let error, let retryAt, _):
                arguments.append(error)
                arguments.append(retryAt.map(RedisJobCodec.milliseconds) ?? 0)
            case .cancelled, .putBack:
                arguments.append("")
                arguments.append(0)
            }
        }
        for queue in queues { arguments.append(queue.rawValue) }
        let reply = try await run(Scripts.settle, keys: [processing], arguments: arguments)
        guard let parts = reply.array, parts.count == 3, let answers = parts[0].array, answers.count == settlements.count else {
            throw JobQueueError(.corruptJob, "settle got an unexpected reply")
        }
        let outcomes = zip(settlements, answers).map { entry, answer -> SettlementOutcome in
            switch (entry.settlement, answer.int ?? 0) {
            case (_, 0): .notHeld
            case (.completed, _): .completed
            case (.failed, 1): .willRetry
            case (.failed, 2): .dead
            case (.failed, _): .cancelled
            case (.cancelled, _): .cancelled
            case (.putBack, _): .putBack
            }
        }
        let fetched = try await fetched(.array([parts[1], parts[2]]), processing: processing, now: now)
        return (outcomes, fetched)
    }

    /// Reads the `{next due, {id, fields, ...}}` part of a fetch, and the fetch's time in milliseconds when
    /// it names one (else `now` is that time); entries that cannot be read are made dead.
    private func fetched(_ reply: RedisValue, processing: String, now: Date) async throws -> FetchResult {
        guard let parts = reply.array, parts.count == 2 || parts.count == 3, let nextDue = parts[0].string.flatMap(Double.init),
            let taken = parts[1].array, taken.count % 2 == 0
        else {
            throw JobQueueError(.corruptJob, "fetch got an unexpected reply \(reply)")
        }
        let now = parts.count == 3 ? parts[2].int.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? now : now
        var jobs: [Job] = []
        jobs.reserveCapacity(taken.count / 2)
        for index in stride(from: 0, to: taken.count, by: 2) {
            let rawID = taken[index].string ?? ""
            do {
                let id = try JobID(rawID)
                // The script sends an entry that is not a hash (or no key at all) as a marker, or as no fields.
                let fields = taken[index + 1].array ?? []
                if fields.isEmpty {
                    throw JobQueueError(.corruptJob, "the ready list held the id \(id), which has no stored job")
                }
                if fields.count == 2, fields[0].string == "!type" {
                    throw JobQueueError(.corruptJob, "the key of the job \(id) holds a \(fields[1].string ?? "value") where a hash belongs")
                }
                // The script returns the hash as it was before it marked the job taken.
                var job = try RedisJobCodec.job(id: id, from: taken[index + 1])
                do {
                    try job.transition(to: .processing)
                } catch {
                    throw JobQueueError(.corruptJob, "the stored job \(id) was in a ready list while \(job.status)")
                }
                job.attempts += 1
                job.startedAt = Date(timeIntervalSince1970: Double(RedisJobCodec.milliseconds(now)) / 1000)
                jobs.append(job)
            } catch {
                // A bad entry must not stop the worker, nor stay in its processing list to come back.
                let reason = (error as? JobQueueError)?.message ?? "the ready list held \(rawID.debugDescription), which is not a job id"
                try await buryUnreadable(rawID, reason: reason, processing: processing, now: now)
            }
        }
        return FetchResult(jobs: jobs, nextDue: nextDue < 0 ? nil : Date(timeIntervalSince1970: nextDue / 1000))
    }

    /// Most due jobs one fetch promotes; more wait for the next fetch, so one fetch stays short.
    static let promotionBatch = 1000

    private func buryUnreadable(_ id: String, reason: String, processing: String, now: Date) async throws {
        logger.warning("a stored job cannot be read and is dead", metadata: [JobLogMetadata.id: "\(id)", "reason": "\(reason)"])
        _ = try await run(
            Scripts.buryUnreadable, keys: [processing, keys.data(unreadable: id)],
            arguments: [
                keys.prefix, id, RedisJobCodec.milliseconds(now), reason, Int(configuration.deadRetention.timeInterval),
                QueueName.default.rawValue,
            ])
    }

    public func complete(_ job: Job, by worker: WorkerID, result: [UInt8]?, now: Date) async throws -> Bool {
        let scriptKeys: [any RedisArgument] = [keys.processing(worker: worker.rawValue), keys.data(job.id)]
        let arguments: [any RedisArgument] = [
            keys.prefix, job.id.rawValue, RedisJobCodec.milliseconds(now), Int(configuration.completedRetention.timeInterval),
            result == nil ? 0 : 1, result ?? [], job.queue.rawValue, job.uniqueKey ?? "",
        ]
        let reply = try await run(Scripts.complete, keys: scriptKeys, arguments: arguments)
        return reply.int == 1
    }

    public func fail(_ job: Job, by worker: WorkerID, error: String, retryAt: Date?, now: Date) async throws -> FailOutcome {
        let scriptKeys: [any RedisArgument] = [keys.processing(worker: worker.rawValue), keys.data(job.id)]
        let arguments: [any RedisArgument] = [
            keys.prefix, job.id.rawValue, RedisJobCodec.milliseconds(now), error, retryAt.map(RedisJobCodec.milliseconds) ?? 0,
            Int(configuration.deadRetention.timeInterval), job.queue.rawValue, job.uniqueKey ?? "",
            Int(configuration.completedRetention.timeInterval),
        ]
        switch try await run(Scripts.fail, keys: scriptKeys, arguments: arguments).int {
        case 1: return .willRetry
        case 2: return .dead
        case 3: return .cancelled
        default: return .notHeld
        }
    }

    public func requeue(_ jobs: [Job], by worker: WorkerID) async throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        let arguments: [any RedisArgument] = [keys.prefix] + jobs.map(\.id.rawValue)
        let reply = try await run(Scripts.requeue, keys: [keys.processing(worker: worker.rawValue)], arguments: arguments)
        return reply.int ?? 0
    }

    public func promoteDue(now: Date, limit: Int) async throws -> PromotionResult {
        let reply = try await run(
            Scripts.promote, keys: [keys.delayed], arguments: [keys.prefix, RedisJobCodec.milliseconds(now), max(1, limit)])
        guard let parts = reply.array, parts.count == 2, let promoted = parts[0].int, let next = parts[1].int else {
            throw JobQueueError(.corruptJob, "promote got an unexpected reply \(reply)")
        }
        return PromotionResult(promoted: promoted, nextDue: next < 0 ? nil : Date(timeIntervalSince1970: Double(next) / 1000))
    }

    public func job(_ id: JobID) async throws -> Job? {
        let reply = try await send(RedisCommand("HGETALL", keys.data(id)))
        if reply.array?.isEmpty ?? false { return nil }
        return try RedisJobCodec.job(id: id, from: reply)
    }

    public func cancel(_ id: JobID, now: Date) async throws -> CancelOutcome {
        let reply = try await run(
            Scripts.cancel, keys: [keys.data(id)],
            arguments: [keys.prefix, id.rawValue, RedisJobCodec.milliseconds(now), Int(configuration.completedRetention.timeInterval)])
        switch try Self.answer(reply, "cancel") {
        case (1, _): return .cancelled
        case (3, _): return .cancelling
        case (2, let status?): return .notWaiting(status)
        default: return .notFound
        }
    }

    public func waitForCancellations(of worker: WorkerID, timeout: Duration) async throws -> [JobID] {
        let bounded = min(timeout, client.configuration.blockingTimeout)
        guard bounded >= .milliseconds(1) else { return [] }
        let arguments: [any RedisArgument] = [Self.seconds(bounded), 1, keys.control(worker: worker.rawValue), "LEFT", "COUNT", 100]
        let reply: RedisValue
        do {
            reply = try await client.withBlockingConnection { connection in
                try await connection.send(RedisCommand("BLMPOP", arguments: arguments))
            }
        } catch let error as RedisError {
            throw queueError(error)
        }
        guard let parts = reply.array, parts.count == 2 else { return [] }
        return (parts[1].array ?? []).compactMap { $0.string.flatMap { try? JobID($0) } }
    }

    public func markCancelled(_ job: Job, by worker: WorkerID, now: Date) async throws -> Bool {
        let reply = try await run(
            Scripts.markCancelled, keys: [keys.processing(worker: worker.rawValue)],
            arguments: [
                keys.prefix, job.id.rawValue, RedisJobCodec.milliseconds(now), Int(configuration.completedRetention.timeInterval),
                job.queue.rawValue, job.uniqueKey ?? "",
            ])
        return reply.int == 1
    }

    /// A blocking command's timeout in seconds with millisecond precision, as Redis reads it.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = Int(duration.timeInterval * 1000)
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    public func retryDead(_ id: JobID) async throws -> RetryDeadOutcome {
        let reply = try await run(
            Scripts.retryDead, keys: [keys.data(id)], arguments: [keys.prefix, id.rawValue])
        switch try Self.answer(reply, "retry") {
        case (1, _): return .requeued
        case (2, let status?): return .notDead(status)
        default: return .notFound
        }
    }

    /// Reads the `{code}` or `{code, status}` reply of the cancel and retry scripts.
    private static func answer(_ reply: RedisValue, _ operation: String) throws(JobQueueError) -> (Int, JobStatus?) {
        guard let parts = reply.array, let code = parts.first?.int else {
            throw JobQueueError(.corruptJob, "\(operation) got an unexpected reply \(reply)")
        }
        return (code, parts.count > 1 ? parts[1].string.flatMap(JobStatus.init(rawValue:)) : nil)
    }

    /// The blocking pop of ``waitForWork(in:timeout:)`` with the fetch script right behind it on the same
    /// connection: Redis runs the fetch the moment the pop returns, and the jobs come back in the round trip
    /// that announced them. The fetch reads the time from Redis, since it was sent before the wait.
    public func waitAndFetch(
        for worker: WorkerID, from queues: [QueueName], limit: Int, starvationLimit: Duration?, timeout: Duration
    ) async throws -> FetchResult {
        let bounded = min(timeout, client.configuration.blockingTimeout)
        guard bounded >= .milliseconds(1) else {
            return try await fetch(for: worker, from: queues, limit: limit, starvationLimit: starvationLimit, now: Date())
        }
        let processing = keys.processing(worker: worker.rawValue)
        let wait = RedisCommand(
            "BLPOP", arguments: queues.map(keys.wake) + [keys.timerWake, keys.wake(worker: worker.rawValue), Self.seconds(bounded)])
        let arguments = fetchArguments(for: worker, from: queues, limit: limit, starvationLimit: starvationLimit, now: 0)
        let reply: RedisValue
        do {
            reply = try await client.withBlockingConnection { connection in
                try await connection.run(Scripts.fetch, keys: [processing], arguments: arguments, after: wait)
            }
        } catch let error as RedisError {
            throw queueError(error)
        }
        return try await fetched(reply, processing: processing, now: Date())
    }

    public func interruptWait(of worker: WorkerID) async throws {
        _ = try await run(Scripts.interruptWait, keys: [keys.wake(worker: worker.rawValue)], arguments: [])
    }

    public func waitForWork(in queues: [QueueName], timeout: Duration) async throws {
        // A blocking pop holds its connection, so it gets a lent one; the server ends it after at most the
        // client's blocking timeout, which keeps a shutdown from waiting long behind it.
        let bounded = min(timeout, client.configuration.blockingTimeout)
        guard bounded >= .milliseconds(1) else { return }
        let arguments: [any RedisArgument] = queues.map(keys.wake) + [keys.timerWake, Self.seconds(bounded)]
        do {
            _ = try await client.withBlockingConnection { connection in
                try await connection.send(RedisCommand("BLPOP", arguments: arguments))
            }
        } catch let error as RedisError {
            throw queueError(error)
        }
    }

    /// Runs a script and turns Redis failures into queue errors.
    func run(_ script: RedisScript, keys: [any RedisArgument], arguments: RedisArguments) async throws(JobQueueError) -> RedisValue {
        do {
            return try await client.run(script, keys: keys, arguments: arguments)
        } catch {
            throw queueError(error)
        }
    }

    func run(
        _ script: RedisScript, keys: [any RedisArgument], arguments: [any RedisArgument]
    ) async throws(JobQueueError) -> RedisValue {
        do {
            return try await client.run(script, keys: keys, arguments: arguments)
        } catch {
            throw queueError(error)
        }
    }

    func send(_ command: RedisCommand) async throws(JobQueueError) -> RedisValue {
        do {
            return try await client.send(command)
        } catch {
            throw queueError(error)
        }
    }

    func queueError(_ error: RedisError) -> JobQueueError {
        if error.serverErrorPrefix == "QUEUEFULL" {
            let reason = error.message.split(separator: "QUEUEFULL ", maxSplits: 1).last.map(String.init) ?? error.message
            return JobQueueError(.queueFull, reason, underlying: error)
        }
        return JobQueueError(.unavailable, "Redis failed: \(error.message)", outcomeUnknown: error.outcomeUnknown, underlying: error)
    }
}

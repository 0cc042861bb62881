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

    var keys: RedisKeys { configuration.keys }

    /// A queue on `client`.
    public init(client: RedisClient, configuration: Configuration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    public func enqueue(_ job: Job, limits: QueueLimits) async throws -> EnqueueOutcome {
        var scriptKeys: [any RedisArgument] = [
            keys.data(job.id), keys.ready(job.queue, job.priority), keys.delayed, keys.unfinished(job.queue),
        ]
        var uniqueMilliseconds = 0
        if let uniqueKey = job.uniqueKey {
            scriptKeys.append(keys.unique(uniqueKey))
            uniqueMilliseconds = max(1, Int(limits.uniqueFor.timeInterval * 1000))
        }
        let runAt = job.status == .scheduled ? job.scheduledAt.map(RedisJobCodec.milliseconds) ?? 0 : 0
        let arguments: [any RedisArgument] =
            [job.id.rawValue, limits.maxJobs ?? 0, uniqueMilliseconds, runAt] + RedisJobCodec.fields(of: job)
        let reply = try await run(Scripts.enqueue, keys: scriptKeys, arguments: arguments)
        guard let parts = reply.array, let stored = parts.first?.int else {
            throw JobQueueError(.corruptJob, "enqueue got an unexpected reply \(reply)")
        }
        if stored == 1 { return .enqueued }
        guard parts.count == 2, let holder = parts[1].string, let holderID = try? JobID(holder) else {
            throw JobQueueError(.corruptJob, "the unique key of job \(job.id) is held by a value that is not a job id")
        }
        return .duplicate(of: holderID)
    }

    public func fetch(for worker: WorkerID, from queues: [QueueName], limit: Int, now: Date) async throws -> [Job] {
        guard limit > 0, !queues.isEmpty else { return [] }
        let scriptKeys: [any RedisArgument] = [keys.processing(worker: worker.rawValue)] + queues.flatMap(keys.readyLists)
        let reply = try await run(
            Scripts.fetch, keys: scriptKeys,
            arguments: [limit, RedisJobCodec.milliseconds(now), worker.rawValue, keys.dataPrefix])
        guard let parts = reply.array, parts.count % 2 == 0 else {
            throw JobQueueError(.corruptJob, "fetch got an unexpected reply \(reply)")
        }
        var jobs: [Job] = []
        jobs.reserveCapacity(parts.count / 2)
        for index in stride(from: 0, to: parts.count, by: 2) {
            guard let id = try? JobID(parts[index].string ?? "") else {
                throw JobQueueError(.corruptJob, "a ready list holds a value that is not a job id")
            }
            jobs.append(try RedisJobCodec.job(id: id, from: parts[index + 1]))
        }
        return jobs
    }

    public func complete(_ job: Job, by worker: WorkerID, result: [UInt8]?, now: Date) async throws -> Bool {
        var scriptKeys: [any RedisArgument] = [
            keys.processing(worker: worker.rawValue), keys.data(job.id), keys.unfinished(job.queue),
        ]
        if let uniqueKey = job.uniqueKey { scriptKeys.append(keys.unique(uniqueKey)) }
        let arguments: [any RedisArgument] = [
            job.id.rawValue, RedisJobCodec.milliseconds(now), Int(configuration.completedRetention.timeInterval),
            result == nil ? 0 : 1, result ?? [],
        ]
        let reply = try await run(Scripts.complete, keys: scriptKeys, arguments: arguments)
        return reply.int == 1
    }

    public func fail(_ job: Job, by worker: WorkerID, error: String, retryAt: Date?, now: Date) async throws -> FailOutcome {
        var scriptKeys: [any RedisArgument] = [
            keys.processing(worker: worker.rawValue), keys.data(job.id), keys.delayed, keys.dead(job.queue),
            keys.unfinished(job.queue),
        ]
        if let uniqueKey = job.uniqueKey { scriptKeys.append(keys.unique(uniqueKey)) }
        let arguments: [any RedisArgument] = [
            job.id.rawValue, RedisJobCodec.milliseconds(now), error, retryAt.map(RedisJobCodec.milliseconds) ?? 0,
            Int(configuration.deadRetention.timeInterval),
        ]
        switch try await run(Scripts.fail, keys: scriptKeys, arguments: arguments).int {
        case 1: return .willRetry
        case 2: return .dead
        default: return .notHeld
        }
    }

    public func requeue(_ jobs: [Job], by worker: WorkerID) async throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        let arguments: [any RedisArgument] = [keys.dataPrefix, keys.readyPrefix] + jobs.map(\.id.rawValue)
        let reply = try await run(Scripts.requeue, keys: [keys.processing(worker: worker.rawValue)], arguments: arguments)
        return reply.int ?? 0
    }

    public func promoteDue(now: Date, limit: Int) async throws -> PromotionResult {
        let reply = try await run(
            Scripts.promote, keys: [keys.delayed],
            arguments: [RedisJobCodec.milliseconds(now), max(1, limit), keys.dataPrefix, keys.readyPrefix])
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

    /// Runs a script and turns Redis failures into queue errors.
    func run(
        _ script: RedisScript, keys: [any RedisArgument], arguments: [any RedisArgument]
    ) async throws(JobQueueError) -> RedisValue {
        do {
            return try await client.run(script, keys: keys, arguments: arguments)
        } catch {
            throw queueError(error)
        }
    }

    private func send(_ command: RedisCommand) async throws(JobQueueError) -> RedisValue {
        do {
            return try await client.send(command)
        } catch {
            throw queueError(error)
        }
    }

    private func queueError(_ error: RedisError) -> JobQueueError {
        if error.serverErrorPrefix == "QUEUEFULL" {
            let reason = error.message.split(separator: "QUEUEFULL ", maxSplits: 1).last.map(String.init) ?? error.message
            return JobQueueError(.queueFull, reason, underlying: error)
        }
        return JobQueueError(.unavailable, "Redis failed: \(error.message)", outcomeUnknown: error.outcomeUnknown, underlying: error)
    }
}

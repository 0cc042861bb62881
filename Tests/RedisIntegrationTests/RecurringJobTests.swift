import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import Foundation
import Synchronization
import Testing

@Suite("Recurring jobs", .timeLimit(.minutes(2)))
struct RecurringJobTests {
    static let start = ISO8601DateFormatter().date(from: "2026-11-23T10:00:30Z")!

    /// A clock the test moves by hand.
    final class TestClock: Sendable {
        private let current: Mutex<Date>
        init(_ date: Date) { current = Mutex(date) }
        var now: Date { current.withLock { $0 } }
        func set(_ date: Date) { current.withLock { $0 = date } }
    }

    static func readyIDs(_ client: RedisClient, _ keys: RedisKeys, _ queue: QueueName = .default) async throws -> [String] {
        try await client.send("LRANGE", keys.ready(queue, .normal), 0, -1).array?.compactMap(\.string) ?? []
    }

    @Test("three schedulers over one Redis submit each firing exactly once")
    func threeSchedulers() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let clock = TestClock(Self.start)
            let scheduler = RedisScheduler(client: client, keys: keys, logger: SharedRedis.logger)
            let service = JobService(queue: queue, scheduler: scheduler, now: { clock.now })
            try await service.addRecurring(try RecurringJob(id: "heartbeat-report", schedule: Schedule("* * * * *"), name: "report"))
            let instances = (0..<3).map { _ in
                RecurringJobService(scheduler: scheduler, now: { clock.now }, logger: SharedRedis.logger)
            }
            var submittedPerTick: [Int] = []
            for minute in 1...10 {
                clock.set(Self.start.addingTimeInterval(Double(minute) * 60))
                let ticks = try await withThrowingTaskGroup(of: RecurringJobService.Tick.self) { group in
                    for instance in instances { group.addTask { try await instance.tick(now: clock.now) } }
                    return try await group.reduce(into: [RecurringJobService.Tick]()) { $0.append($1) }
                }
                submittedPerTick.append(ticks.map(\.submitted).reduce(0, +))
            }
            #expect(submittedPerTick == Array(repeating: 1, count: 10))
            let ids = try await Self.readyIDs(client, keys)
            #expect(ids.count == 10)
            for id in ids {
                let job = try #require(try await queue.job(JobID(id)))
                #expect(job.name == "report")
                #expect(job.status == .pending)
            }
        }
    }

    @Test("missed firings are skipped, or run once, by the job's policy", arguments: [RecurringJob.MissedRuns.skip, .runOnce])
    func missedRuns(policy: RecurringJob.MissedRuns) async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let clock = TestClock(Self.start)
            let scheduler = RedisScheduler(client: client, keys: keys, logger: SharedRedis.logger)
            let service = JobService(queue: queue, scheduler: scheduler, now: { clock.now })
            try await service.addRecurring(try RecurringJob(id: "digest", schedule: Schedule("@every 1m"), name: "digest", missedRuns: policy))
            let firing = RecurringJobService(scheduler: scheduler, now: { clock.now }, logger: SharedRedis.logger)
            // Ten minutes of downtime.
            clock.set(Self.start.addingTimeInterval(10 * 60))
            let tick = try await firing.tick(now: clock.now)
            #expect(tick == RecurringJobService.Tick(submitted: policy == .runOnce ? 1 : 0, skipped: policy == .skip ? 1 : 0))
            #expect(try await Self.readyIDs(client, keys).count == (policy == .runOnce ? 1 : 0))
            let state = try #require(try await service.recurringJobs().first)
            #expect(state.nextFiring == ISO8601DateFormatter().date(from: "2026-11-23T10:11:00Z"), "it goes on from now")
            #expect(try await firing.tick(now: clock.now) == RecurringJobService.Tick(submitted: 0, skipped: 0))
        }
    }

    @Test("recurring jobs are added, listed, paused, resumed and removed through the service")
    func manage() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let clock = TestClock(Self.start)
            let scheduler = RedisScheduler(client: client, keys: keys, logger: SharedRedis.logger)
            let service = JobService(queue: queue, scheduler: scheduler, now: { clock.now })
            let nightly = try RecurringJob(
                id: "nightly-cleanup", schedule: Schedule("0 3 * * *", timeZone: "Europe/Berlin"), name: "cleanup",
                payload: Array(#"{"days":30}"#.utf8), options: JobOptions(queue: "maintenance", priority: .low, maxRetries: 1))
            try await service.addRecurring(nightly)
            try await service.addRecurring(try RecurringJob(id: "hourly", schedule: Schedule("@hourly"), name: "ping"))

            var states = try await service.recurringJobs()
            #expect(states.map(\.job.id) == ["hourly", "nightly-cleanup"])
            #expect(states[1].job == nightly)
            #expect(states[1].nextFiring == ISO8601DateFormatter().date(from: "2026-11-24T02:00:00Z"))
            #expect(states[0].nextFiring == ISO8601DateFormatter().date(from: "2026-11-23T11:00:00Z"))

            #expect(try await service.pauseRecurring("hourly"))
            clock.set(ISO8601DateFormatter().date(from: "2026-11-23T12:30:00Z")!)
            let firing = RecurringJobService(scheduler: scheduler, now: { clock.now }, logger: SharedRedis.logger)
            #expect(try await firing.tick(now: clock.now) == RecurringJobService.Tick(submitted: 0, skipped: 0), "a paused job does not fire")
            states = try await service.recurringJobs()
            #expect(states[0].paused && states[0].nextFiring == nil)

            #expect(try await service.resumeRecurring("hourly"))
            states = try await service.recurringJobs()
            #expect(!states[0].paused)
            #expect(states[0].nextFiring == ISO8601DateFormatter().date(from: "2026-11-23T13:00:00Z"))

            #expect(try await service.removeRecurring("hourly"))
            #expect(try await service.removeRecurring("hourly") == false)
            #expect(try await service.recurringJobs().map(\.job.id) == ["nightly-cleanup"])
            #expect(try await service.pauseRecurring("hourly") == false)
        }
    }

    @Test("bad recurring jobs are refused with a clear error")
    func refused() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let scheduler = RedisScheduler(client: client, keys: keys, logger: SharedRedis.logger)
            let settings = JobService.Settings(queues: [try QueueDefinition(name: "email", priorities: [.normal])])
            let service = JobService(queue: queue, scheduler: scheduler, settings: settings)
            await #expect(throws: JobError(.invalidOptions, "the payload of recurring job r is not valid JSON")) {
                try await service.addRecurring(try RecurringJob(id: "r", schedule: Schedule("@daily"), name: "x", payload: Array("{".utf8)))
            }
            await #expect(throws: JobError(.priorityNotAllowed, "the queue email does not accept critical jobs (it accepts normal)")) {
                try await service.addRecurring(
                    try RecurringJob(id: "r", schedule: Schedule("@daily"), name: "x", options: JobOptions(queue: "email", priority: .critical)))
            }
            #expect(throws: JobError.self) { try RecurringJob(id: "has space", schedule: Schedule("@daily"), name: "x") }
            #expect(try await service.recurringJobs().isEmpty)
            await #expect(throws: JobError(.invalidOptions, "recurring jobs need a scheduler: pass one to JobService")) {
                try await JobService(queue: queue).recurringJobs()
            }
        }
    }

    @Test("over a spring-forward day, ticking every minute fires a 02:30 job once")
    func daylightSaving() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let dayStart = ISO8601DateFormatter().date(from: "2026-03-08T05:00:00Z")!  // midnight in New York
            let clock = TestClock(dayStart)
            let scheduler = RedisScheduler(client: client, keys: keys, logger: SharedRedis.logger)
            let service = JobService(queue: queue, scheduler: scheduler, now: { clock.now })
            try await service.addRecurring(try RecurringJob(id: "batch", schedule: Schedule("30 2 * * *", timeZone: "America/New_York"), name: "batch"))
            let firing = RecurringJobService(scheduler: scheduler, now: { clock.now }, logger: SharedRedis.logger)
            var firedAt: [Date] = []
            for minute in 1...(23 * 60) {
                clock.set(dayStart.addingTimeInterval(Double(minute) * 60))
                if try await firing.tick(now: clock.now).submitted > 0 { firedAt.append(clock.now) }
            }
            #expect(firedAt == [ISO8601DateFormatter().date(from: "2026-03-08T07:30:00Z")!], "once, at 03:30 EDT")
        }
    }

    @Test("as a running service, it sleeps until each firing and submits it")
    func running() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let scheduler = RedisScheduler(client: client, keys: keys, logger: SharedRedis.logger)
            let service = JobService(queue: queue, scheduler: scheduler)
            try await service.addRecurring(try RecurringJob(id: "tick", schedule: Schedule("@every 1s"), name: "tick"))
            let firing = RecurringJobService(scheduler: scheduler, logger: SharedRedis.logger)
            try await withRunning([firing], logger: SharedRedis.logger) {
                try await waitUntil("two firings were submitted") { try await Self.readyIDs(client, keys).count >= 2 }
            }
        }
    }
}

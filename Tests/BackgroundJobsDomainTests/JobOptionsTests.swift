import BackgroundJobsDomain
import Foundation
import Testing

@Suite("Job options and queue rules")
struct JobOptionsTests {
    @Test("default options are valid and run at once")
    func defaults() throws {
        let options = JobOptions()
        try options.validate()
        #expect(options.queue == .default)
        #expect(options.priority == .normal)
        #expect(options.runAt(now: Date()) == nil)
    }

    @Test(
        "contradictory or out-of-range options are refused with a reason",
        arguments: [
            (JobOptions(delay: .seconds(-1)), "the delay must not be negative"),
            (JobOptions(delay: .seconds(1), scheduledAt: Date()), "give a delay or a run-at time, not both"),
            (JobOptions(maxRetries: -1), "max retries must not be negative"),
            (JobOptions(timeout: .zero), "the timeout must be positive"),
            (JobOptions(uniqueKey: ""), "the unique key is empty"),
            (JobOptions(uniqueFor: .seconds(5)), "a unique duration needs a unique key"),
        ])
    func invalid(options: JobOptions, reason: String) {
        let error = #expect(throws: JobError.self) { try options.validate() }
        #expect(error?.code == .invalidOptions)
        #expect(error?.message == reason)
    }

    @Test("a delay or a future run-at time schedules the job; a past run-at time runs it at once")
    func runAt() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(JobOptions(delay: .seconds(90)).runAt(now: now) == now.addingTimeInterval(90))
        #expect(JobOptions(scheduledAt: now.addingTimeInterval(5)).runAt(now: now) == now.addingTimeInterval(5))
        #expect(JobOptions(scheduledAt: now.addingTimeInterval(-5)).runAt(now: now) == nil)
        #expect(JobOptions(delay: .zero).runAt(now: now) == nil)
    }

    @Test("a new job is pending, or scheduled when it has a run-at time")
    func newJobStatus() {
        let now = Date()
        let id = JobID.generate(at: now)
        let ready = Job(id: id, name: "email", payload: [], options: JobOptions(), maxRetries: 3, createdAt: now)
        #expect(ready.status == .pending)
        #expect(ready.maxRetries == 3)
        let later = Job(id: id, name: "email", payload: [], options: JobOptions(delay: .seconds(10), maxRetries: 1), maxRetries: 3, createdAt: now)
        #expect(later.status == .scheduled)
        #expect(later.maxRetries == 1, "the job's own option wins over the default")
    }

    @Test("a queue refuses priorities it does not serve, naming those it does")
    func queuePriorities() throws {
        let email = try QueueDefinition(name: "email", priorities: [.normal, .high], maxJobs: 5000)
        try email.accept(.high)
        let error = #expect(throws: JobError.self) { try email.accept(.critical) }
        #expect(error?.code == .priorityNotAllowed)
        #expect(error?.message == "the queue email does not accept critical jobs (it accepts normal, high)")
        #expect(throws: JobError.self) { try QueueDefinition(name: "x", priorities: []) }
        #expect(throws: JobError.self) { try QueueDefinition(name: "x", maxJobs: 0) }
    }

    @Test("a payload over the limit is refused without echoing it")
    func payloadLimit() throws {
        try JobPayload.validate([UInt8](repeating: 65, count: 1024), limit: 1024)
        let error = #expect(throws: JobError.self) { try JobPayload.validate([UInt8](repeating: 65, count: 1025), limit: 1024) }
        #expect(error?.code == .payloadTooLarge)
        #expect(error?.message == "the payload is 1025 bytes, more than the limit of 1024 bytes")
    }
}

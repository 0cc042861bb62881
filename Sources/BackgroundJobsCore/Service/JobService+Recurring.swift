import BackgroundJobsDomain
import Foundation

/// Recurring jobs through the application service: checked like every submission, stored in the
/// scheduler the service was given.
extension JobService {
    /// Adds a recurring job, or replaces the one with the same id; it fires next at its schedule's next
    /// time from now.
    public func addRecurring(_ job: RecurringJob) async throws {
        let scheduler = try requireScheduler()
        do {
            _ = try JSONSerialization.jsonObject(with: Data(job.payload), options: [.fragmentsAllowed])
        } catch {
            throw JobError(.invalidOptions, "the payload of recurring job \(job.id) is not valid JSON")
        }
        try JobPayload.validate(job.payload, limit: settings.payloadSizeLimit)
        try settings.queues[job.options.queue]?.accept(job.options.priority)
        try await scheduler.save(job, nextFiring: job.schedule.nextFiring(after: now()))
    }

    /// Removes a recurring job; returns whether it existed.
    @discardableResult
    public func removeRecurring(_ id: String) async throws -> Bool {
        try await requireScheduler().remove(id)
    }

    /// Suspends a recurring job's firings; returns whether it exists.
    @discardableResult
    public func pauseRecurring(_ id: String) async throws -> Bool {
        try await requireScheduler().setPaused(id, true, nextFiring: nil)
    }

    /// Resumes a paused recurring job from its next firing after now (missed ones are not made up);
    /// returns whether it exists.
    @discardableResult
    public func resumeRecurring(_ id: String) async throws -> Bool {
        let scheduler = try requireScheduler()
        guard let state = try await scheduler.all().first(where: { $0.job.id == id }) else { return false }
        return try await scheduler.setPaused(id, false, nextFiring: state.job.schedule.nextFiring(after: now()))
    }

    /// Every recurring job with its state.
    public func recurringJobs() async throws -> [RecurringJobState] {
        try await requireScheduler().all()
    }

    private func requireScheduler() throws(JobError) -> any Scheduler {
        guard let scheduler else { throw JobError(.invalidOptions, "recurring jobs need a scheduler: pass one to JobService") }
        return scheduler
    }
}

public import BackgroundJobsDomain
public import Foundation

/// Where recurring jobs are kept, and the atomic claim that makes each firing happen once however many
/// scheduler instances run. Adapter: `RedisScheduler`.
public protocol Scheduler: Sendable {
    /// Stores `job` (replacing one with the same id, keeping its last firing) due next at `nextFiring`.
    func save(_ job: RecurringJob, nextFiring: Date?) async throws

    /// Removes a recurring job; returns whether there was one. Jobs it already submitted are not touched.
    func remove(_ id: String) async throws -> Bool

    /// Suspends or resumes firings; a resumed job is due next at `nextFiring`. Returns whether the job exists.
    func setPaused(_ id: String, _ paused: Bool, nextFiring: Date?) async throws -> Bool

    /// Every recurring job with its state, ordered by id.
    func all() async throws -> [RecurringJobState]

    /// Up to `limit` unpaused recurring jobs whose next firing is at or before `now`, with that firing time.
    func due(now: Date, limit: Int) async throws -> [(job: RecurringJob, firing: Date)]

    /// When the earliest unpaused recurring job fires next, if any.
    func nextFiring() async throws -> Date?

    /// Claims `firing` of a recurring job, moves its next firing to `next`, and stores `submission` (when
    /// given) — all at once, and only if no firing at or after `firing` was claimed before.
    ///
    /// - Returns: whether this call made the claim.
    func claim(_ id: String, firing: Date, next: Date?, submission: Job?) async throws -> Bool
}

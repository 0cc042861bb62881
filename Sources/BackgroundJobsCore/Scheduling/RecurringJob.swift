public import BackgroundJobsDomain
public import Foundation

/// A job submitted again and again on a schedule, stored where every instance of the application sees it.
public struct RecurringJob: Sendable, Hashable {
    /// What to do with firings missed while no scheduler ran (a deploy, an outage).
    public enum MissedRuns: String, Sendable, Hashable, Codable {
        /// Skip them: the next firing is the next one from now.
        case skip
        /// Run once for all of them, then go on from now.
        case runOnce
    }

    /// The definition's own name, unique among recurring jobs: 1–128 letters, digits, `_`, `-`, `.`, `:`.
    public var id: String
    /// When it fires.
    public var schedule: Schedule
    /// The job type each firing submits.
    public var name: JobName
    /// The payload of each firing, as JSON.
    public var payload: [UInt8]
    /// Queue, priority, retries and timeout of each firing (delays and unique keys do not apply).
    public var options: JobOptions
    /// What to do with missed firings; by default skip them.
    public var missedRuns: MissedRuns

    /// A recurring job; the id and options are checked here.
    public init(
        id: String, schedule: Schedule, name: JobName, payload: [UInt8] = Array("{}".utf8), options: JobOptions = JobOptions(),
        missedRuns: MissedRuns = .skip
    ) throws(JobError) {
        guard !id.isEmpty, id.utf8.count <= 128,
            id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_-.:".unicodeScalars.contains($0)) })
        else {
            throw JobError(.invalidOptions, "a recurring job id must be 1 to 128 letters, digits, '_', '-', '.' or ':'")
        }
        guard options.delay == nil, options.scheduledAt == nil, options.uniqueKey == nil else {
            throw JobError(.invalidOptions, "a recurring job takes no delay, run-at time or unique key: its schedule says when it runs")
        }
        try options.validate()
        self.id = id
        self.schedule = schedule
        self.name = name
        self.payload = payload
        self.options = options
        self.missedRuns = missedRuns
    }
}

/// A recurring job as stored, with where its schedule stands.
public struct RecurringJobState: Sendable, Hashable {
    /// The definition.
    public var job: RecurringJob
    /// Whether firings are suspended.
    public var paused: Bool
    /// When it fires next; `nil` while paused or when the schedule has no further firing.
    public var nextFiring: Date?
    /// The firing time most recently claimed, if any.
    public var lastFiring: Date?

    /// A state.
    public init(job: RecurringJob, paused: Bool, nextFiring: Date?, lastFiring: Date?) {
        self.job = job
        self.paused = paused
        self.nextFiring = nextFiring
        self.lastFiring = lastFiring
    }
}

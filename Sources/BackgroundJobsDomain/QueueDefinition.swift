/// What a queue accepts: the priorities it serves and how many unfinished jobs it may hold.
public struct QueueDefinition: Sendable, Hashable {
    /// The queue.
    public var name: QueueName
    /// The priorities the queue accepts; a job of another priority is refused at submission.
    public var priorities: Set<JobPriority>
    /// The most jobs the queue may hold that are not finished (ready, delayed or running); `nil` for no limit.
    public var maxJobs: Int?

    /// A queue definition; by default every priority and no limit.
    public init(name: QueueName, priorities: Set<JobPriority> = Set(JobPriority.allCases), maxJobs: Int? = nil) throws(JobError) {
        guard !priorities.isEmpty else {
            throw JobError(.invalidOptions, "the queue \(name) must accept at least one priority")
        }
        if let maxJobs, maxJobs < 1 {
            throw JobError(.invalidOptions, "max_jobs of the queue \(name) must be at least 1")
        }
        self.name = name
        self.priorities = priorities
        self.maxJobs = maxJobs
    }

    /// Checks that the queue takes a job of `priority`.
    public func accept(_ priority: JobPriority) throws(JobError) {
        guard priorities.contains(priority) else {
            let allowed = priorities.sorted().map(\.rawValue).joined(separator: ", ")
            throw JobError(.priorityNotAllowed, "the queue \(name) does not accept \(priority.rawValue) jobs (it accepts \(allowed))")
        }
    }
}

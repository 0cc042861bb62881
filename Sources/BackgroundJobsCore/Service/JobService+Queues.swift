public import BackgroundJobsDomain

/// Looking into queues and managing them through the application service.
extension JobService {
    /// Every queue that has had a job.
    public func queues() async throws -> [QueueName] {
        try await queue.queues()
    }

    /// How many jobs `name` has in each state.
    public func counts(of name: QueueName) async throws -> QueueCounts {
        try await queue.counts(of: name)
    }

    /// One page of the jobs of `name` in `status`; pass the page's `next` to get the following one.
    public func list(_ name: QueueName, status: JobStatus, cursor: String? = nil, limit: Int = 50) async throws -> JobPage {
        guard (1...1000).contains(limit) else { throw JobError(.invalidOptions, "a page holds 1 to 1000 jobs") }
        return try await queue.list(name, status: status, cursor: cursor, limit: limit)
    }

    /// Stops workers from taking jobs of `name`; submissions are still accepted.
    public func pause(_ name: QueueName) async throws {
        try await queue.setPaused(name, true)
    }

    /// Lets workers take jobs of `name` again.
    public func resume(_ name: QueueName) async throws {
        try await queue.setPaused(name, false)
    }

    /// Deletes every waiting job of `name`; returns how many.
    public func purge(_ name: QueueName) async throws -> Int {
        try await queue.purge(name)
    }

    /// Runs every dead job of `name` again; returns how many.
    public func retryAllDead(in name: QueueName) async throws -> Int {
        try await queue.retryAllDead(in: name)
    }
}

import BackgroundJobsDomain

/// What happens to jobs as it happens, and who runs them.
extension JobService {
    /// Every change of every job after `cursor` (from now on when `nil`), as it happens: status changes
    /// and progress, for a server to push to its clients. The sequence ends when its consumer stops
    /// iterating, and fails when the queue cannot be read.
    public func events(after cursor: String? = nil) -> AsyncThrowingStream<JobEvent, any Error> {
        let queue = self.queue
        return AsyncThrowingStream { continuation in
            // The reader lives exactly as long as the sequence: ending the iteration cancels it.
            let reader = Task {
                var cursor = cursor
                do {
                    while !Task.isCancelled {
                        let (events, next) = try await queue.events(after: cursor, timeout: .seconds(2))
                        cursor = next
                        for event in events { continuation.yield(event) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in reader.cancel() }
        }
    }

    /// The worker processes alive now, with what each is doing.
    public func workers() async throws -> [WorkerInfo] {
        try await queue.workers()
    }
}

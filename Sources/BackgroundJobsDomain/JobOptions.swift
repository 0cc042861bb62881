#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// How one job is to be run: where it queues, how urgent it is, when it may start, how often it is
/// retried, how long it may take, and whether it must be unique.
public struct JobOptions: Sendable, Hashable {
    /// The queue the job goes to.
    public var queue: QueueName
    /// How urgent the job is within its queue.
    public var priority: JobPriority
    /// Run no sooner than this long after submission; exclusive with ``scheduledAt``.
    public var delay: Duration?
    /// Run no sooner than this time; exclusive with ``delay``.
    public var scheduledAt: Date?
    /// Retries after the first attempt; `nil` takes the job type's or the system's default.
    public var maxRetries: Int?
    /// How long one attempt may run before it is cancelled and counted as failed; `nil` for no limit.
    public var timeout: Duration?
    /// While a job with this key is queued, scheduled or running, another submission with it is refused.
    public var uniqueKey: String?
    /// How long the unique key holds at most, also when the job never finishes; `nil` for the default.
    public var uniqueFor: Duration?

    /// Options; every parameter has a default.
    public init(
        queue: QueueName = .default,
        priority: JobPriority = .normal,
        delay: Duration? = nil,
        scheduledAt: Date? = nil,
        maxRetries: Int? = nil,
        timeout: Duration? = nil,
        uniqueKey: String? = nil,
        uniqueFor: Duration? = nil
    ) {
        self.queue = queue
        self.priority = priority
        self.delay = delay
        self.scheduledAt = scheduledAt
        self.maxRetries = maxRetries
        self.timeout = timeout
        self.uniqueKey = uniqueKey
        self.uniqueFor = uniqueFor
    }

    /// Longest unique key accepted, in bytes.
    public static let maximumUniqueKeyLength = 256

    /// Checks every option; a submission calls it before anything is written.
    public func validate() throws(JobError) {
        func fail(_ message: String) -> JobError { JobError(.invalidOptions, message) }
        if let delay, delay < .zero { throw fail("the delay must not be negative") }
        if delay != nil && scheduledAt != nil { throw fail("give a delay or a run-at time, not both") }
        if let maxRetries, maxRetries < 0 { throw fail("max retries must not be negative") }
        if let maxRetries, maxRetries > 1000 { throw fail("max retries must not exceed 1000") }
        if let timeout, timeout <= .zero { throw fail("the timeout must be positive") }
        if let uniqueKey {
            guard !uniqueKey.isEmpty else { throw fail("the unique key is empty") }
            guard uniqueKey.utf8.count <= Self.maximumUniqueKeyLength else {
                throw fail("the unique key is longer than \(Self.maximumUniqueKeyLength) bytes")
            }
        }
        if let uniqueFor, uniqueFor <= .zero { throw fail("the unique duration must be positive") }
        if uniqueFor != nil && uniqueKey == nil { throw fail("a unique duration needs a unique key") }
    }

    /// When the job may first run, for a submission at `now`: `nil` means at once.
    public func runAt(now: Date) -> Date? {
        if let scheduledAt { return scheduledAt > now ? scheduledAt : nil }
        if let delay, delay > .zero { return now.addingTimeInterval(delay.timeInterval) }
        return nil
    }
}

extension Duration {
    /// The duration in seconds, for `Date` arithmetic.
    public var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// An error a handler throws to say that running the job again cannot help (bad input, a permanent
/// refusal): the job goes straight to dead instead of being retried.
public struct NonRetryableError: Error, Sendable, CustomStringConvertible {
    /// Why the job failed for good.
    public var reason: String

    /// An error with its reason.
    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}

/// How one run of a job ended. A failure is a value: the worker records it and goes on.
public enum JobOutcome: Sendable, Hashable {
    /// The handler returned; `result` is its encoded output, if it has one.
    case completed(result: [UInt8]?)
    /// The handler failed, the payload did not decode, or no handler knows the job name.
    case failed(reason: String, retryable: Bool)
}

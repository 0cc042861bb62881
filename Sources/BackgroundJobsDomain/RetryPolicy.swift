/// How failed attempts are retried: how many times, and after what delay.
public struct RetryPolicy: Sendable, Hashable {
    /// Retries after the first attempt.
    public var maxRetries: Int
    /// The delay before the first retry.
    public var initialDelay: Duration
    /// Each further retry waits this many times longer than the one before.
    public var factor: Double
    /// No retry waits longer than this.
    public var maxDelay: Duration
    /// Spread of the delay: 0.2 draws each delay from ±20 % of its nominal value, so jobs that failed
    /// together do not all retry in the same instant.
    public var jitter: Double

    /// The defaults of the design: 3 retries, 5 s, doubling, at most 30 s, ±10 % jitter.
    public static let `default` = RetryPolicy.exponential(
        initialDelay: .seconds(5), factor: 2, maxDelay: .seconds(30), maxRetries: 3, jitter: 0.1)

    /// No retries: the first failure is final.
    public static let none = RetryPolicy(maxRetries: 0, initialDelay: .zero, factor: 1, maxDelay: .zero, jitter: 0)

    /// Exponential backoff with a cap and jitter.
    public static func exponential(
        initialDelay: Duration, factor: Double = 2, maxDelay: Duration, maxRetries: Int, jitter: Double = 0.1
    ) -> RetryPolicy {
        RetryPolicy(maxRetries: maxRetries, initialDelay: initialDelay, factor: factor, maxDelay: maxDelay, jitter: jitter)
    }

    /// The same delay before every retry.
    public static func fixed(_ delay: Duration, maxRetries: Int) -> RetryPolicy {
        RetryPolicy(maxRetries: maxRetries, initialDelay: delay, factor: 1, maxDelay: delay, jitter: 0)
    }

    /// A policy; ``validate()`` checks its values.
    public init(maxRetries: Int, initialDelay: Duration, factor: Double, maxDelay: Duration, jitter: Double) {
        self.maxRetries = maxRetries
        self.initialDelay = initialDelay
        self.factor = factor
        self.maxDelay = maxDelay
        self.jitter = jitter
    }

    /// Checks that every value is in range.
    public func validate() throws(JobError) {
        func fail(_ message: String) -> JobError { JobError(.invalidOptions, message) }
        guard maxRetries >= 0 else { throw fail("max retries must not be negative") }
        guard initialDelay >= .zero, maxDelay >= initialDelay else {
            throw fail("the retry delays must not be negative, and the maximum no less than the first")
        }
        guard factor >= 1, factor.isFinite else { throw fail("the backoff factor must be at least 1") }
        guard (0...1).contains(jitter) else { throw fail("the jitter must be between 0 and 1") }
    }

    /// Whether a job that has failed `attempts` times (counting the one that just failed) runs again.
    public func shouldRetry(afterAttempts attempts: Int) -> Bool { attempts <= maxRetries }

    /// The nominal delay before retry number `retry` (1 for the first retry), before jitter.
    public func nominalDelay(forRetry retry: Int) -> Duration {
        guard retry > 1 else { return min(initialDelay, maxDelay) }
        let seconds = initialDelay.timeInterval * pow(factor, Double(retry - 1))
        guard seconds.isFinite, seconds < maxDelay.timeInterval else { return maxDelay }
        return .nanoseconds(Int64(seconds * 1e9))
    }

    /// The delay before retry number `retry`, with jitter drawn from `generator`; never above ``maxDelay``.
    public func delay(forRetry retry: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let nominal = nominalDelay(forRetry: retry).timeInterval
        let spread = jitter > 0 ? Double.random(in: -jitter...jitter, using: &generator) : 0
        let seconds = min(max(0, nominal * (1 + spread)), maxDelay.timeInterval)
        return .nanoseconds(Int64(seconds * 1e9))
    }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(exponent) { result *= base }
        return result
    }
}

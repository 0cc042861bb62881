import BackgroundJobsDomain
import Testing

@Suite("Retry policy")
struct RetryPolicyTests {
    @Test("the default doubles from 5 s and stops at 30 s")
    func defaultDelays() {
        let policy = RetryPolicy.default
        #expect(policy.maxRetries == 3)
        #expect((1...6).map { policy.nominalDelay(forRetry: $0) } == [.seconds(5), .seconds(10), .seconds(20), .seconds(30), .seconds(30), .seconds(30)])
    }

    @Test("jitter stays within its spread and under the cap")
    func jitter() {
        let policy = RetryPolicy.exponential(initialDelay: .seconds(10), factor: 2, maxDelay: .seconds(25), maxRetries: 5, jitter: 0.2)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let first = policy.delay(forRetry: 1, using: &generator)
            #expect(first >= .seconds(8) && first <= .seconds(12))
            #expect(policy.delay(forRetry: 3, using: &generator) <= .seconds(25))
        }
    }

    @Test("retries are allowed up to max retries after the first attempt")
    func retryCount() {
        let policy = RetryPolicy.fixed(.seconds(1), maxRetries: 2)
        #expect(policy.shouldRetry(afterAttempts: 1))
        #expect(policy.shouldRetry(afterAttempts: 2))
        #expect(!policy.shouldRetry(afterAttempts: 3))
        #expect(!RetryPolicy.none.shouldRetry(afterAttempts: 1))
    }

    @Test("out-of-range policies are refused")
    func validation() {
        #expect(throws: JobError.self) { try RetryPolicy.exponential(initialDelay: .seconds(5), maxDelay: .seconds(1), maxRetries: 3).validate() }
        #expect(throws: JobError.self) { try RetryPolicy.exponential(initialDelay: .seconds(1), factor: 0.5, maxDelay: .seconds(5), maxRetries: 3).validate() }
        #expect(throws: JobError.self) { try RetryPolicy.exponential(initialDelay: .seconds(1), maxDelay: .seconds(5), maxRetries: 3, jitter: 2).validate() }
        #expect(throws: Never.self) { try RetryPolicy.default.validate() }
    }
}

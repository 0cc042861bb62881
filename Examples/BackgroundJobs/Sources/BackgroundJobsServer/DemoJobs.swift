import BackgroundJobs
import Foundation

/// The job types the demo server runs out of the box (seed 001's, with results stored on the job), plus
/// two for trying retries and timeouts.
public enum DemoJobs {
    struct Text: Codable, Sendable { var text: String }
    struct Reversed: Codable, Sendable { var reversed: String }
    struct Uppercased: Codable, Sendable { var uppercased: String }
    struct Fibonacci: Codable, Sendable { var n: Int }
    struct FibonacciValue: Codable, Sendable { var n: Int; var value: UInt64 }
    struct Sleep: Codable, Sendable { var ms: Int }
    struct Fail: Codable, Sendable { var retryable: Bool; var message: String? }

    struct FailureRequested: Error, CustomStringConvertible {
        var description: String
    }

    /// Registers `reverse_string` {text}, `uppercase_text` {text}, `fibonacci_calc` {n ≤ 93}, `sleep` {ms}
    /// and `fail` {retryable, message?}.
    public static func register(into registry: inout JobRegistry) {
        registry.register(JobDefinition<Text>("reverse_string")) { input, _ in Reversed(reversed: String(input.text.reversed())) }
        registry.register(JobDefinition<Text>("uppercase_text")) { input, _ in Uppercased(uppercased: input.text.uppercased()) }
        registry.register(JobDefinition<Fibonacci>("fibonacci_calc")) { input, _ in
            guard (0...93).contains(input.n) else { throw NonRetryableError("n must be from 0 to 93 (larger values overflow 64 bits)") }
            var (a, b): (UInt64, UInt64) = (0, 1)
            for _ in 0..<input.n { (a, b) = (b, a &+ b) }
            return FibonacciValue(n: input.n, value: a)
        }
        registry.register(JobDefinition<Sleep>("sleep")) { input, context in
            let steps = max(1, input.ms / 100)
            for step in 1...steps {
                try await Task.sleep(for: .milliseconds(max(0, input.ms) / steps))
                try await context.reportProgress(step * 100 / steps)
            }
        }
        registry.register(JobDefinition<Fail>("fail")) { input, _ in
            let message = input.message ?? "failed on request"
            if input.retryable { throw FailureRequested(description: message) }
            throw NonRetryableError(message)
        }
    }

    /// A seed 000 simulation: runs for `seconds` (by default a random 5 to 60), reporting progress, and
    /// fails (retryably) with `failure_rate` (by default 10 %).
    struct Simulation: Codable, Sendable {
        var seconds: Double?
        var failureRate: Double?

        enum CodingKeys: String, CodingKey {
            case seconds
            case failureRate = "failure_rate"
        }
    }

    struct SimulatedFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Registers seed 000's simulated workloads: `data_analysis`, `report_generation`, `email_campaign`
    /// and `backup`, each {seconds?, failure_rate?}.
    public static func registerSimulations(into registry: inout JobRegistry) {
        for name in ["data_analysis", "report_generation", "email_campaign", "backup"] {
            registry.register(JobDefinition<Simulation>(try! JobName(name))) { input, context in
                let seconds = min(3600, max(0, input.seconds ?? Double.random(in: 5...60)))
                let steps = 20
                for step in 1...steps {
                    try await Task.sleep(for: .milliseconds(Int64(seconds * 1000) / Int64(steps)))
                    try await context.reportProgress(step * 100 / steps)
                }
                if Double.random(in: 0..<1) < min(1, max(0, input.failureRate ?? 0.1)) {
                    throw SimulatedFailure(description: "simulated \(name) failure")
                }
            }
        }
    }
}

public import BackgroundJobsDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The handlers a worker can run, found by job name, with each job type's retry policy.
public struct JobRegistry: Sendable {
    typealias Runner = @Sendable ([UInt8], JobContext) async throws -> [UInt8]?

    private var runners: [JobName: Runner] = [:]
    private var retryPolicies: [JobName: RetryPolicy] = [:]

    /// An empty registry.
    public init() {}

    /// The job names that have a handler.
    public var names: Set<JobName> { Set(runners.keys) }

    /// Whether a handler is registered for `name`.
    public func handles(_ name: JobName) -> Bool { runners[name] != nil }

    /// Whether no handler is registered.
    public var isEmpty: Bool { runners.isEmpty }

    /// Registers the handler of a job type; its payload is decoded from JSON before `handler` runs.
    ///
    /// A payload that does not decode fails the job for good (a retry would read the same bytes).
    public mutating func register<Payload>(
        _ definition: JobDefinition<Payload>,
        retry: RetryPolicy? = nil,
        _ handler: @escaping @Sendable (Payload, JobContext) async throws -> Void
    ) {
        register(definition, retry: retry) { (payload: Payload, context: JobContext) -> JobNoOutput in
            try await handler(payload, context)
            return JobNoOutput()
        }
    }

    /// Registers a handler that returns an output, stored as JSON with the completed job.
    public mutating func register<Payload, Output: Encodable & Sendable>(
        _ definition: JobDefinition<Payload>,
        retry: RetryPolicy? = nil,
        _ handler: @escaping @Sendable (Payload, JobContext) async throws -> Output
    ) {
        runners[definition.name] = { bytes, context in
            let payload: Payload
            do {
                payload = try JSONDecoder().decode(Payload.self, from: Data(bytes))
            } catch {
                throw PayloadDecodingError(type: "\(Payload.self)", detail: Self.describe(error))
            }
            let output = try await handler(payload, context)
            if output is JobNoOutput { return nil }
            return Array(try JSONEncoder().encode(output))
        }
        if let retry { retryPolicies[definition.name] = retry }
    }

    /// The retry policy registered for a job type, if any.
    public func retryPolicy(for name: JobName) -> RetryPolicy? { retryPolicies[name] }

    /// Runs the handler of `context.job`; every way it can end is an outcome, never a thrown error.
    /// Cancellation (a timeout or a shutdown) is passed on as `CancellationError` so the worker can tell
    /// it from a failure.
    public func run(_ context: JobContext) async throws(CancellationError) -> JobOutcome {
        let job = context.job
        guard let runner = runners[job.name] else {
            return .failed(reason: "no handler is registered for the job name \(job.name)", retryable: false)
        }
        do {
            return .completed(result: try await runner(job.payload, context))
        } catch let error as PayloadDecodingError {
            return .failed(reason: error.description, retryable: false)
        } catch let error as NonRetryableError {
            return .failed(reason: error.reason, retryable: false)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            return .failed(reason: "\(error)", retryable: true)
        }
    }

    /// Says where decoding failed without quoting the payload.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "it is not valid JSON" }
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? "at the top level" : "at \(path)"
        }
        switch error {
        case .typeMismatch(let type, let context): return "expected \(type) \(path(context))"
        case .valueNotFound(let type, let context): return "a \(type) is missing \(path(context))"
        case .keyNotFound(let key, let context): return "the key \(key.stringValue) is missing \(path(context))"
        case .dataCorrupted(let context):
            // A value a payload type refused carries that type's own words, which say what is wrong without
            // quoting the value; the decoder's own complaint (a syntax error) keeps the plain wording.
            let fromDecoder = context.underlyingError != nil || context.debugDescription.hasPrefix("The given data")
            guard !fromDecoder, !context.debugDescription.isEmpty else { return "it is not valid JSON \(path(context))" }
            var what = context.debugDescription
            while what.hasSuffix(".") { what.removeLast() }
            return "\(what) \(path(context))"
        @unknown default: return "it does not decode"
        }
    }
}

/// The output of handlers that return nothing.
struct JobNoOutput: Encodable, Sendable {}

/// A payload that does not decode as the registered type.
struct PayloadDecodingError: Error, CustomStringConvertible {
    let type: String
    let detail: String
    var description: String { "the payload does not decode as \(type): \(detail)" }
}

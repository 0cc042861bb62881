import BackgroundJobs
import Foundation
import Hummingbird

/// A job as `POST /jobs` takes it: `{type, payload, queue?, priority?, delay?, scheduled_at?, max_retries?,
/// unique_key?, timeout?}`. Each field is checked, and a bad one is refused with its name.
struct SubmissionRequest {
    var name: JobName
    var payload: [UInt8]
    var options: JobOptions

    static let fields: Set<String> = ["type", "payload", "queue", "priority", "delay", "scheduled_at", "max_retries", "unique_key", "timeout"]

    init(json object: Any, at path: String = "the body") throws {
        func bad(_ message: String) -> HTTPError { HTTPError(.badRequest, message: message) }
        guard let fields = object as? [String: Any] else { throw bad("\(path) must be a JSON object") }
        if let unknown = fields.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw bad("\(path) has the unknown field \(unknown.debugDescription) (known: \(Self.fields.sorted().joined(separator: ", ")))")
        }
        guard let type = fields["type"] as? String else { throw bad("\(path) needs \"type\": the job type, a string") }
        do {
            name = try JobName(type)
        } catch {
            throw bad("\"type\" is not a job type: \(error.message)")
        }
        guard let payload = fields["payload"] else { throw bad("\(path) needs \"payload\": any JSON value") }
        self.payload = Array(try JSONSerialization.data(withJSONObject: payload, options: [.fragmentsAllowed]))

        options = JobOptions()
        if let queue = fields["queue"] {
            guard let text = queue as? String else { throw bad("\"queue\" must be a string") }
            do {
                options.queue = try QueueName(text)
            } catch {
                throw bad(error.message)
            }
        }
        if let priority = fields["priority"] {
            guard let text = priority as? String, let value = JobPriority(rawValue: text) else {
                throw bad("\"priority\" must be one of low, normal, high, critical")
            }
            options.priority = value
        }
        if let delay = fields["delay"] { options.delay = try Self.duration(delay, "delay") }
        if let timeout = fields["timeout"] { options.timeout = try Self.duration(timeout, "timeout") }
        if let scheduledAt = fields["scheduled_at"] {
            guard let text = scheduledAt as? String, let date = try? Date(text, strategy: .iso8601) else {
                throw bad("\"scheduled_at\" must be an ISO 8601 time such as 2026-11-23T18:00:00Z")
            }
            options.scheduledAt = date
        }
        if let retries = fields["max_retries"] {
            guard let number = retries as? Int, !Self.isBoolean(retries) else { throw bad("\"max_retries\" must be a whole number") }
            options.maxRetries = number
        }
        if let key = fields["unique_key"] {
            guard let text = key as? String, !text.isEmpty else { throw bad("\"unique_key\" must be a non-empty string") }
            options.uniqueKey = text
        }
    }

    /// Whether a parsed JSON value was `true` or `false`. Numbers come as `NSNumber`, which also casts to
    /// `Bool` when it is 0 or 1, so the type is checked, not the cast.
    static func isBoolean(_ value: Any) -> Bool {
        type(of: value) == Bool.self || String(describing: type(of: value)).contains("Boolean")
    }

    /// A duration as a string ("30s", "500ms") or a number of seconds.
    static func duration(_ value: Any, _ field: String) throws -> Duration {
        if let seconds = value as? Double, !isBoolean(value) {
            guard seconds.isFinite else { throw HTTPError(.badRequest, message: "\"\(field)\" must be finite") }
            return .milliseconds(Int64((seconds * 1000).rounded()))
        }
        if let text = value as? String, let duration = try? Duration.parse(text) { return duration }
        throw HTTPError(.badRequest, message: "\"\(field)\" must be a duration such as \"30s\" or \"500ms\", or a number of seconds")
    }
}

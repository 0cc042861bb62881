import BackgroundJobsCore
import BackgroundJobsDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How a ``Job`` is stored in its Redis hash.
///
/// Field names are single lowercase letters (the reader indexes its table by them): a small hash stays in
/// Redis's compact listpack encoding, which costs a fraction of a hash table. Times are milliseconds since
/// 1970; absent values are absent fields.
enum RedisJobCodec {
    enum Field {
        static let name = "n", queue = "q", priority = "p", status = "s", attempts = "a", maxRetries = "m"
        static let timeout = "t", uniqueKey = "u", stalls = "k", createdAt = "c", scheduledAt = "r"
        static let startedAt = "b", finishedAt = "f", lastError = "e", result = "o", payload = "d", worker = "w"
        static let progress = "g"
    }

    /// Appends the field/value items of a job, ready for `HSET`, and returns how many there are.
    @discardableResult
    static func appendFields(of job: Job, to arguments: inout RedisArguments) -> Int {
        let start = arguments.count
        arguments.append(Field.name)
        arguments.append(job.name.rawValue)
        arguments.append(Field.queue)
        arguments.append(job.queue.rawValue)
        arguments.append(Field.priority)
        arguments.append(job.priority.rawValue)
        arguments.append(Field.status)
        arguments.append(job.status.rawValue)
        arguments.append(Field.maxRetries)
        arguments.append(job.maxRetries)
        arguments.append(Field.createdAt)
        arguments.append(milliseconds(job.createdAt))
        arguments.append(Field.payload)
        arguments.append(job.payload)
        appendOptionalFields(of: job, to: &arguments)
        return arguments.count - start
    }

    /// Appends the field/value items of the fields a job may lack, and returns how many there are.
    @discardableResult
    static func appendOptionalFields(of job: Job, to arguments: inout RedisArguments) -> Int {
        let start = arguments.count
        // Attempts and stalls read as 0 when absent: a new job's hash leaves them out, which keeps it small.
        if job.attempts != 0 {
            arguments.append(Field.attempts)
            arguments.append(job.attempts)
        }
        if job.stalls != 0 {
            arguments.append(Field.stalls)
            arguments.append(job.stalls)
        }
        if let timeout = job.timeout {
            arguments.append(Field.timeout)
            arguments.append(Int(timeout.timeInterval * 1000))
        }
        if let uniqueKey = job.uniqueKey {
            arguments.append(Field.uniqueKey)
            arguments.append(uniqueKey)
        }
        if let scheduledAt = job.scheduledAt {
            arguments.append(Field.scheduledAt)
            arguments.append(milliseconds(scheduledAt))
        }
        if let startedAt = job.startedAt {
            arguments.append(Field.startedAt)
            arguments.append(milliseconds(startedAt))
        }
        if let finishedAt = job.finishedAt {
            arguments.append(Field.finishedAt)
            arguments.append(milliseconds(finishedAt))
        }
        if let lastError = job.lastError {
            arguments.append(Field.lastError)
            arguments.append(lastError)
        }
        if let result = job.result {
            arguments.append(Field.result)
            arguments.append(result)
        }
        return arguments.count - start
    }

    /// How many field/value items ``appendOptionalFields(of:to:)`` appends for `job`.
    static func optionalFieldCount(of job: Job) -> Int {
        // Without a temporary array: this runs for every job enqueued.
        var present = 0
        if job.attempts != 0 { present += 1 }
        if job.stalls != 0 { present += 1 }
        if job.timeout != nil { present += 1 }
        if job.uniqueKey != nil { present += 1 }
        if job.scheduledAt != nil { present += 1 }
        if job.startedAt != nil { present += 1 }
        if job.finishedAt != nil { present += 1 }
        if job.lastError != nil { present += 1 }
        if job.result != nil { present += 1 }
        return 2 * present
    }

    /// A job from the flat field/value array `HGETALL` returns.
    static func job(id: JobID, from reply: RedisValue) throws(JobQueueError) -> Job {
        guard let elements = reply.array, elements.count % 2 == 0 else {
            throw corrupt(id, "its hash is not a list of fields and values")
        }
        // Every field name is one lowercase letter, so the values sit in a table indexed by it: a dictionary
        // of the fields cost a hashed insert and lookup for each, on every fetch. Other names are ignored.
        var values = [[UInt8]?](repeating: nil, count: 26)
        for index in stride(from: 0, to: elements.count, by: 2) {
            guard let name = elements[index].bytes, let value = elements[index + 1].bytes else {
                throw corrupt(id, "a field of its hash is not a string")
            }
            if name.count == 1, let slot = Self.slot(name[0]) { values[slot] = value }
        }
        func raw(_ field: String) -> [UInt8]? { field.utf8.first.flatMap(Self.slot).flatMap { values[$0] } }
        func text(_ field: String) -> String? { raw(field).map { String(decoding: $0, as: UTF8.self) } }
        func integer(_ field: String) throws(JobQueueError) -> Int? {
            guard let raw = text(field) else { return nil }
            guard let number = Int(raw) else { throw corrupt(id, "the field \(field) is not a number") }
            return number
        }
        func date(_ field: String) throws(JobQueueError) -> Date? {
            try integer(field).map { Date(timeIntervalSince1970: Double($0) / 1000) }
        }
        func required<Value>(_ value: Value?, _ field: String) throws(JobQueueError) -> Value {
            guard let value else { throw corrupt(id, "the field \(field) is missing") }
            return value
        }

        let name: JobName
        let queue: QueueName
        do {
            name = try JobName(required(text(Field.name), Field.name))
            queue = try QueueName(required(text(Field.queue), Field.queue))
        } catch let error as JobQueueError {
            throw error
        } catch {
            throw corrupt(id, "its name or queue is not valid (\(error))")
        }
        guard let priority = try JobPriority(rawValue: required(text(Field.priority), Field.priority)) else {
            throw corrupt(id, "its priority is not one of low, normal, high, critical")
        }
        guard let status = try JobStatus(rawValue: required(text(Field.status), Field.status)) else {
            throw corrupt(id, "its status is not a known status")
        }
        var job = Job(
            id: id, name: name, queue: queue, priority: priority, payload: raw(Field.payload) ?? [], status: status,
            attempts: try integer(Field.attempts) ?? 0, maxRetries: try integer(Field.maxRetries) ?? 0,
            timeout: try integer(Field.timeout).map { .milliseconds($0) }, uniqueKey: text(Field.uniqueKey),
            stalls: try integer(Field.stalls) ?? 0, createdAt: try required(date(Field.createdAt), Field.createdAt),
            scheduledAt: try date(Field.scheduledAt), startedAt: try date(Field.startedAt),
            finishedAt: try date(Field.finishedAt), lastError: text(Field.lastError), result: raw(Field.result))
        job.progress = try integer(Field.progress)
        return job
    }

    /// Where a one-letter field name's value goes in the reader's table.
    private static func slot(_ letter: UInt8) -> Int? {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(letter) ? Int(letter - UInt8(ascii: "a")) : nil
    }

    static func milliseconds(_ date: Date) -> Int {
        Int((date.timeIntervalSince1970 * 1000).rounded())
    }

    private static func corrupt(_ id: JobID, _ reason: String) -> JobQueueError {
        JobQueueError(.corruptJob, "the stored job \(id) cannot be read: \(reason)")
    }
}

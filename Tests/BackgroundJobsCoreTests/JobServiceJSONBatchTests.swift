import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsTesting
import Foundation
import Testing

@Suite("Batches of JSON submissions")
struct JobServiceJSONBatchTests {
    struct Note: Codable, Sendable { var text: String }

    static func service(_ queue: InMemoryJobQueue) -> JobService {
        var registry = JobRegistry()
        registry.register(JobDefinition<Note>("note")) { _, _ in }
        return JobService(queue: queue, registry: registry)
    }

    static func entry(_ text: String, uniqueKey: String? = nil) -> (name: JobName, payload: [UInt8], options: JobOptions) {
        ("note", Array(#"{"text":"\#(text)"}"#.utf8), JobOptions(uniqueKey: uniqueKey))
    }

    @Test("the jobs are stored in order, and of two that share a unique key in different slices the second is the duplicate")
    func orderAcrossSlices() async throws {
        let queue = InMemoryJobQueue()
        // 250 jobs: three slices of the queue's calls, the unique key in the first and the third.
        var entries = (0..<250).map { Self.entry("\($0)") }
        entries[3] = Self.entry("first", uniqueKey: "k")
        entries[230] = Self.entry("second", uniqueKey: "k")
        let results = try await Self.service(queue).submit(json: entries)
        #expect(results.count == 250)
        guard case .success(.submitted(let holder)) = results[3] else { Issue.record("the first is stored: \(results[3])"); return }
        guard case .success(.duplicate(let of)) = results[230] else { Issue.record("the second is a duplicate: \(results[230])"); return }
        #expect(of == holder)
        var stored: [String] = []
        for result in results {
            if case .success(.submitted(let id)) = result, let job = try await queue.job(id) {
                stored.append(String(decoding: job.payload, as: UTF8.self))
            }
        }
        #expect(stored.count == 249)
        #expect(stored.first == #"{"text":"0"}"# && stored.last == #"{"text":"249"}"#)
    }

    @Test("a job that fails its checks throws, naming its place, and no job of the batch is stored", arguments: [
        (Self.entry("x"), Array("{not".utf8), "jobs[1]: the payload of note is not valid JSON"),
        (("no_such_job", Array("{}".utf8), JobOptions()), nil, "jobs[1]: no handler is registered for the job type no_such_job"),
        (("note", Array("{}".utf8), JobOptions(delay: .seconds(-1))), nil, "jobs[1]: the delay must not be negative"),
    ] as [((name: JobName, payload: [UInt8], options: JobOptions), [UInt8]?, String)])
    func refusedWhole(bad: (name: JobName, payload: [UInt8], options: JobOptions), payload: [UInt8]?, message: String) async throws {
        let queue = InMemoryJobQueue()
        var entry = bad
        if let payload { entry.payload = payload }
        let error = try await #require(throws: JobError.self) {
            try await Self.service(queue).submit(json: [Self.entry("ok"), entry, Self.entry("ok too")])
        }
        #expect(error.message == message)
        #expect(try await queue.counts(of: .default).pending.values.reduce(0, +) == 0)
    }
}

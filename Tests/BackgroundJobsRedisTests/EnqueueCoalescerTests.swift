import BackgroundJobsCore
import BackgroundJobsDomain
@testable import BackgroundJobsRedis
import Foundation
import Synchronization
import Testing

@Suite("Enqueue coalescer", .timeLimit(.minutes(1)))
struct EnqueueCoalescerTests {
    /// A store whose calls wait until the test opens them, and that records how many jobs each call carried.
    final class GatedStore: Sendable {
        private struct State {
            var calls: [[JobID]] = []
            var open = false
            var gate: [CheckedContinuation<Void, Never>] = []
        }
        private let state = Mutex(State())

        var calls: [[JobID]] { state.withLock { $0.calls } }

        func open() {
            let waiting = state.withLock { state in
                state.open = true
                defer { state.gate = [] }
                return state.gate
            }
            for continuation in waiting { continuation.resume() }
        }

        func store(_ entries: [EnqueueCoalescer.Entry]) async throws -> [Result<EnqueueOutcome, any Error>] {
            state.withLock { $0.calls.append(entries.map(\.job.id)) }
            await withCheckedContinuation { continuation in
                let proceed = state.withLock { state in
                    if !state.open { state.gate.append(continuation) }
                    return state.open
                }
                if proceed { continuation.resume() }
            }
            return entries.map { entry in
                entry.job.payload == Array("refuse".utf8)
                    ? .failure(JobQueueError(.queueFull, "full")) : .success(.enqueued)
            }
        }
    }

    static func job(_ payload: String = "{}") -> Job {
        Job(id: JobID.generate(at: Date()), name: "test", payload: Array(payload.utf8), options: JobOptions(), maxRetries: 0, createdAt: Date())
    }

    @Test("an enqueue alone goes out at once; those that arrive while it is under way share the next call, each with its own answer")
    func sharesCalls() async throws {
        let coalescer = EnqueueCoalescer(maximumCalls: 1, maximumJobs: 100)
        let store = GatedStore()
        let first = Self.job()
        let others = (0..<10).map { $0 == 3 ? Self.job("refuse") : Self.job() }
        try await withThrowingTaskGroup(of: (JobID, Bool).self) { group in
            group.addTask { (first.id, (try? await coalescer.enqueue((first, QueueLimits()), store: store.store)) == .enqueued) }
            try await waitFor("the first call to start") { store.calls.count == 1 }
            for job in others {
                group.addTask { (job.id, (try? await coalescer.enqueue((job, QueueLimits()), store: store.store)) == .enqueued) }
            }
            try await waitFor("the others to wait") { coalescer.waitingCount == others.count }
            store.open()
            var answers: [JobID: Bool] = [:]
            for try await (id, stored) in group { answers[id] = stored }
            #expect(answers[first.id] == true)
            for (index, job) in others.enumerated() { #expect(answers[job.id] == (index != 3)) }
        }
        #expect(store.calls.map(\.count) == [1, others.count])
        // The tasks reach the coalescer in any order; each job is in the second call once.
        #expect(Set(store.calls.last ?? []) == Set(others.map(\.id)))
    }

    @Test("a call takes at most its number of jobs and its payload bytes; the rest go in the calls after it")
    func boundsCalls() async throws {
        let coalescer = EnqueueCoalescer(maximumCalls: 1, maximumJobs: 4)
        let store = GatedStore()
        let big = String(repeating: "x", count: EnqueueCoalescer.maximumPayloadBytes / 2 + 1)
        let jobs = [Self.job()] + (0..<6).map { _ in Self.job() } + [Self.job(big), Self.job(big)]
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try await coalescer.enqueue((jobs[0], QueueLimits()), store: store.store) }
            try await waitFor("the first call to start") { store.calls.count == 1 }
            for job in jobs.dropFirst() {
                // One at a time, so they wait in this order.
                let before = coalescer.waitingCount
                group.addTask { _ = try await coalescer.enqueue((job, QueueLimits()), store: store.store) }
                try await waitFor("the job to wait") { coalescer.waitingCount == before + 1 }
            }
            store.open()
            try await group.waitForAll()
        }
        #expect(store.calls.map(\.count) == [1, 4, 3, 1])
    }

    private func waitFor(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

import BackgroundJobsCore
import BackgroundJobsDomain
import Synchronization

/// Lets single enqueues from many tasks share script calls, as the jobs of a batch do.
///
/// An enqueue that finds fewer than ``maximumCalls`` calls under way and nobody waiting goes out at once,
/// alone, on its own task: a lone caller waits for nothing. Otherwise it waits, and the jobs waiting when
/// a call ends go out together in the next one (up to ``maximumJobs``). Each job is still checked and
/// stored on its own inside that call, with its own answer; a call's failure is every one of its jobs'.
/// A call costs Redis far more than one more job in it, so under load this is what keeps single
/// submissions from being bound by the call's fixed cost.
final class EnqueueCoalescer: Sendable {
    typealias Entry = (job: Job, limits: QueueLimits)
    /// Stores jobs in one call and answers for each in order.
    typealias Store = @Sendable ([Entry]) async throws -> [Result<EnqueueOutcome, any Error>]

    private struct Waiting {
        var entry: Entry
        var continuation: CheckedContinuation<EnqueueOutcome, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var calls = 0
    }

    /// Calls under way at once.
    let maximumCalls: Int
    /// Most waiting jobs one call takes.
    let maximumJobs: Int
    /// Most payload bytes one call takes, unless its first job alone has more.
    static let maximumPayloadBytes = 1 << 20
    private let state = Mutex(State())

    /// Jobs waiting for a call.
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    init(maximumCalls: Int, maximumJobs: Int) {
        self.maximumCalls = max(1, maximumCalls)
        self.maximumJobs = max(1, maximumJobs)
    }

    /// Stores `entry` through `store`, alone or with others that wait at the same time.
    func enqueue(_ entry: Entry, store: @escaping Store) async throws -> EnqueueOutcome {
        let alone = state.withLock { state in
            guard state.calls < maximumCalls, state.waiting.isEmpty else { return false }
            state.calls += 1
            return true
        }
        if alone {
            let outcome: Result<EnqueueOutcome, any Error>
            do {
                outcome = try await store([entry]).first ?? .failure(JobQueueError(.corruptJob, "enqueue got no answer"))
            } catch {
                outcome = .failure(error)
            }
            endCall(store)
            return try outcome.get()
        }
        return try await withCheckedThrowingContinuation { continuation in
            let startsCall = state.withLock { state in
                state.waiting.append(Waiting(entry: entry, continuation: continuation))
                guard state.calls < maximumCalls else { return false }
                state.calls += 1
                return true
            }
            if startsCall { Task { await self.drain(store) } }
        }
    }

    /// A call has ended: its place goes to the jobs that wait, if any.
    private func endCall(_ store: @escaping Store) {
        let jobsWait = state.withLock { state in
            if state.waiting.isEmpty { state.calls -= 1 }
            return !state.waiting.isEmpty
        }
        if jobsWait { Task { await self.drain(store) } }
    }

    /// Holds one call's place and stores the waiting jobs, a call at a time, until none wait.
    private func drain(_ store: Store) async {
        while true {
            let batch = state.withLock { state -> [Waiting] in
                guard !state.waiting.isEmpty else {
                    state.calls -= 1
                    return []
                }
                // Large payloads end a call early: one call must not hold Redis for long.
                var count = 0
                var bytes = 0
                for waiting in state.waiting.prefix(maximumJobs) {
                    bytes += waiting.entry.job.payload.count
                    if count > 0 && bytes > Self.maximumPayloadBytes { break }
                    count += 1
                }
                defer { state.waiting.removeFirst(count) }
                return Array(state.waiting.prefix(count))
            }
            if batch.isEmpty { return }
            do {
                let outcomes = try await store(batch.map(\.entry))
                guard outcomes.count == batch.count else {
                    throw JobQueueError(.corruptJob, "enqueue got \(outcomes.count) answers for \(batch.count) jobs")
                }
                for (waiting, outcome) in zip(batch, outcomes) { waiting.continuation.resume(with: outcome) }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
    }
}

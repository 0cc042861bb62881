import BackgroundJobsDomain
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the fetch loop and the job slots of a pool share: the jobs running and those the queue still
/// holds for this worker, the settlements waiting to be sent, and the signal that wakes the fetch loop
/// (a slot finished, work announced, a stop).
final class WorkerPoolState: Sendable {
    /// A finished attempt waiting to be recorded in the queue.
    struct Pending: Sendable {
        var job: Job
        var settlement: Settlement
        var duration: Duration
    }

    private struct State {
        /// Jobs whose handler runs in a slot.
        var executing: Set<JobID> = []
        /// Jobs the queue holds for this worker: executing, or finished and not yet settled.
        var held: Set<JobID> = []
        var pending: [Pending] = []
        var stopping = false
        var wakePending = false
        var blockingWaitInFlight = false
        var processed = 0
        var failed = 0
        var wakeWaiter: CheckedContinuation<Void, Never>?
        var cancellers: [JobID: @Sendable () -> Void] = [:]
    }

    let concurrency: Int
    private let state = Mutex(State())

    init(concurrency: Int) {
        self.concurrency = concurrency
    }

    var isStopping: Bool { state.withLock { $0.stopping } }
    /// The jobs the queue holds for this worker, for reconciling its processing list.
    var held: Set<JobID> { state.withLock { $0.held } }
    var freeSlots: Int { state.withLock { concurrency - $0.executing.count } }
    var isDrained: Bool { state.withLock { $0.executing.isEmpty && $0.pending.isEmpty } }
    var counts: (busy: Int, processed: Int, failed: Int) {
        state.withLock { ($0.executing.count, $0.processed, $0.failed) }
    }

    /// Records that a slot runs `id`.
    func started(_ id: JobID) {
        state.withLock { state in
            state.executing.insert(id)
            state.held.insert(id)
        }
    }

    /// Frees the slot of a finished attempt and queues its settlement; wakes the fetch loop.
    func finished(_ pending: Pending) {
        state.withLock { state in
            state.executing.remove(pending.job.id)
            state.pending.append(pending)
        }
        wake()
    }

    /// Takes the settlements to send.
    func takePending() -> [Pending] {
        state.withLock { state in
            defer { state.pending = [] }
            return state.pending
        }
    }

    /// Puts back settlements that could not be sent, ahead of newer ones.
    func restorePending(_ batch: [Pending]) {
        state.withLock { $0.pending.insert(contentsOf: batch, at: 0) }
    }

    /// Records what the queue made of sent settlements.
    func settled(_ batch: [Pending], _ outcomes: [SettlementOutcome]) {
        state.withLock { state in
            for (entry, outcome) in zip(batch, outcomes) {
                state.held.remove(entry.job.id)
                switch outcome {
                case .completed: state.processed += 1
                case .willRetry, .dead: state.failed += 1
                case .cancelled, .putBack, .notHeld: break
                }
            }
        }
    }

    /// Waits until ``wake()`` or ``stop()`` is called; a wake that came while nobody waited counts.
    func waitForWake() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.wakePending {
                    state.wakePending = false
                    return true
                }
                state.wakeWaiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Wakes the fetch loop.
    func wake() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.wakeWaiter = nil }
            if state.wakeWaiter == nil { state.wakePending = true }
            return state.wakeWaiter
        }
        waiter?.resume()
    }

    /// Marks a blocking wait in the queue as started; `false` when one is under way already (it wakes
    /// the loop when it ends, so a second would only hold another connection).
    func beginBlockingWait() -> Bool {
        state.withLock { state in
            if state.blockingWaitInFlight { return false }
            state.blockingWaitInFlight = true
            return true
        }
    }

    func endBlockingWait() {
        state.withLock { $0.blockingWaitInFlight = false }
        wake()
    }

    /// Waits for a wake, or `duration` at most.
    func pause(for duration: Duration) async {
        let timer = Task {
            try? await Task.sleep(for: duration)
            if !Task.isCancelled { self.wake() }
        }
        await waitForWake()
        timer.cancel()
    }

    /// Stops fetching and wakes the loop.
    func stop() {
        state.withLock { $0.stopping = true }
        wake()
    }

    /// Registers how to stop the running job `id` when its cancel is requested.
    func setCanceller(_ id: JobID, _ canceller: (@Sendable () -> Void)?) {
        state.withLock { $0.cancellers[id] = canceller }
    }

    /// Stops the running job `id`, if this pool runs it; returns whether it did.
    @discardableResult
    func cancel(_ id: JobID) -> Bool {
        guard let canceller = state.withLock({ $0.cancellers[id] }) else { return false }
        canceller()
        return true
    }
}

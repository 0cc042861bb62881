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
        /// Jobs the queue holds for this worker: fetched ahead, executing, or finished and not yet settled.
        var held: Set<JobID> = []
        /// Held jobs that stalled before (a worker died holding them): while one is held, nothing else is
        /// fetched, so a job that crashes its process takes no other job with it.
        var suspects: Set<JobID> = []
        /// Jobs fetched ahead, in the order they are to run.
        var buffer: [Job] = []
        var bufferStart = 0
        /// Slot tasks alive (each runs buffered jobs until none is left).
        var slots = 0
        var pending: [Pending] = []
        var stopping = false
        var wakePending = false
        var blockingWaitInFlight = false
        /// A wait's fetch failed: it may have taken jobs with its answer lost, which only a reconcile finds.
        var reconcileWanted = false
        /// The fetch loop has ended: jobs a wait fetches after it are not taken in.
        var closed = false
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
    /// Whether a held job stalled before: then the pool fetches nothing more until it is settled.
    var holdsSuspect: Bool { state.withLock { !$0.suspects.isEmpty } }
    var freeSlots: Int { state.withLock { concurrency - $0.slots } }
    var buffered: Int { state.withLock { $0.buffer.count - $0.bufferStart } }
    /// Whether a wait in the queue (which fetches when it ends) is under way.
    var waitsInQueue: Bool { state.withLock { $0.blockingWaitInFlight } }
    var counts: (busy: Int, processed: Int, failed: Int) {
        state.withLock { ($0.executing.count, $0.processed, $0.failed) }
    }

    /// Adds fetched jobs to the buffer the slots take from.
    func buffer(_ jobs: [Job]) {
        state.withLock { Self.buffer(jobs, in: &$0) }
    }

    private static func buffer(_ jobs: [Job], in state: inout State) {
        for job in jobs {
            state.held.insert(job.id)
            if job.stalls > 0 { state.suspects.insert(job.id) }
        }
        state.buffer.append(contentsOf: jobs)
    }

    /// Ends the fetch loop if nothing is left to do: no slot, no settlement to send, nothing buffered, no
    /// wait under way. Returns whether it ended.
    func closeIfDrained() -> Bool {
        state.withLock { state in
            guard state.slots == 0, state.pending.isEmpty, state.bufferStart == state.buffer.count, !state.blockingWaitInFlight else {
                return false
            }
            state.closed = true
            return true
        }
    }

    /// Ends the fetch loop whatever is left (the queue stopped answering).
    func close() {
        state.withLock { $0.closed = true }
    }

    /// How many slot tasks to start for the buffered jobs, counted as started.
    func slotsToStart() -> Int {
        state.withLock { state in
            let count = min(concurrency - state.slots, state.buffer.count - state.bufferStart)
            if count > 0 { state.slots += count }
            return max(0, count)
        }
    }

    /// The next buffered job for a slot, marked executing; `nil` ends the slot (none left, or stopping).
    func nextJob() -> Job? {
        state.withLock { state in
            guard !state.stopping, state.bufferStart < state.buffer.count else {
                state.slots -= 1
                return nil
            }
            let job = state.buffer[state.bufferStart]
            state.bufferStart += 1
            if state.bufferStart == state.buffer.count {
                state.buffer.removeAll(keepingCapacity: true)
                state.bufferStart = 0
            }
            state.executing.insert(job.id)
            return job
        }
    }

    /// Hands the jobs still buffered back to be put back in the queue (at a stop).
    func releaseBuffer() {
        state.withLock { state in
            for job in state.buffer[state.bufferStart...] {
                state.pending.append(Pending(job: job, settlement: .putBack, duration: .zero))
            }
            state.buffer.removeAll()
            state.bufferStart = 0
        }
    }

    /// Records a finished attempt's settlement; wakes the fetch loop.
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
                state.suspects.remove(entry.job.id)
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

    /// Ends the wait, buffering the jobs it fetched and waking the loop; `false` when the loop has ended,
    /// and the jobs are the caller's to put back. A wait that `failed` asks the loop to reconcile at once.
    func endBlockingWait(fetched jobs: [Job], failed: Bool) -> Bool {
        let taken = state.withLock { state in
            state.blockingWaitInFlight = false
            if failed { state.reconcileWanted = true }
            if state.closed { return false }
            Self.buffer(jobs, in: &state)
            return true
        }
        wake()
        return taken
    }

    /// Whether a failed wait asked for a reconcile, clearing the request.
    func takeReconcileRequest() -> Bool {
        state.withLock { state in
            defer { state.reconcileWanted = false }
            return state.reconcileWanted
        }
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

    /// Stops the job `id` if this pool runs it (or drops it from the buffer, ending it cancelled); returns
    /// whether it did.
    @discardableResult
    func cancel(_ id: JobID) -> Bool {
        let (canceller, dropped) = state.withLock { state -> ((@Sendable () -> Void)?, Bool) in
            if let canceller = state.cancellers[id] { return (canceller, false) }
            guard let index = state.buffer[state.bufferStart...].firstIndex(where: { $0.id == id }) else { return (nil, false) }
            let job = state.buffer.remove(at: index)
            state.pending.append(Pending(job: job, settlement: .cancelled, duration: .zero))
            return (nil, true)
        }
        if dropped { wake() }
        canceller?()
        return canceller != nil || dropped
    }
}

import BackgroundJobsDomain
import Synchronization

/// What the fetch loop and the job slots of a pool share: the jobs running, the slots free, and the
/// signals that wake the fetch loop (a slot freed, work announced, a stop).
final class WorkerPoolState: Sendable {
    private struct State {
        var running: Set<JobID> = []
        var stopping = false
        var wakePending = false
        var processed = 0
        var failed = 0
        var slotWaiter: CheckedContinuation<Int, Never>?
        var wakeWaiter: CheckedContinuation<Void, Never>?
        var idleWaiter: CheckedContinuation<Bool, Never>?
        var cancellers: [JobID: @Sendable () -> Void] = [:]
    }

    let concurrency: Int
    private let state = Mutex(State())

    init(concurrency: Int) {
        self.concurrency = concurrency
    }

    var isStopping: Bool { state.withLock { $0.stopping } }
    var running: Set<JobID> { state.withLock { $0.running } }
    var counts: (busy: Int, processed: Int, failed: Int) {
        state.withLock { ($0.running.count, $0.processed, $0.failed) }
    }

    /// Waits until a slot is free and returns how many are, or 0 once the pool stops.
    func waitForFreeSlots() async -> Int {
        await withCheckedContinuation { continuation in
            let free = state.withLock { state -> Int? in
                if state.stopping { return 0 }
                let free = concurrency - state.running.count
                if free > 0 { return free }
                state.slotWaiter = continuation
                return nil
            }
            if let free { continuation.resume(returning: free) }
        }
    }

    /// Records that a slot runs `id`.
    func started(_ id: JobID) {
        state.withLock { _ = $0.running.insert(id) }
    }

    /// Frees the slot of `id`, counting how its attempt ended.
    func finished(_ id: JobID, succeeded: Bool?) {
        let (slotWaiter, idleWaiter, free) = state.withLock { state in
            state.running.remove(id)
            if let succeeded {
                if succeeded { state.processed += 1 } else { state.failed += 1 }
            }
            let slotWaiter = state.slotWaiter
            state.slotWaiter = nil
            let idleWaiter = state.running.isEmpty ? state.idleWaiter : nil
            if idleWaiter != nil { state.idleWaiter = nil }
            return (slotWaiter, idleWaiter, concurrency - state.running.count)
        }
        slotWaiter?.resume(returning: free)
        idleWaiter?.resume(returning: true)
    }

    /// Waits until ``wake()`` or ``stop()`` is called; a wake that came while nobody waited counts.
    func waitForWake() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.stopping || state.wakePending {
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

    /// Waits for `duration`, or less if the pool stops.
    func pause(for duration: Duration) async {
        let timer = Task {
            try? await Task.sleep(for: duration)
            if !Task.isCancelled { self.wake() }
        }
        await waitForWake()
        timer.cancel()
    }

    /// Stops fetching: every wait of the fetch loop returns.
    func stop() {
        let (slotWaiter, wakeWaiter) = state.withLock { state in
            state.stopping = true
            defer {
                state.slotWaiter = nil
                state.wakeWaiter = nil
            }
            return (state.slotWaiter, state.wakeWaiter)
        }
        slotWaiter?.resume(returning: 0)
        wakeWaiter?.resume()
    }

    /// Waits until no job runs, or `timeout` passes; returns whether every job ended.
    func waitUntilIdle(timeout: Duration) async -> Bool {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if Task.isCancelled { return }
            let waiter = self.state.withLock { state in
                defer { state.idleWaiter = nil }
                return state.idleWaiter
            }
            waiter?.resume(returning: false)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let idle = state.withLock { state -> Bool in
                if state.running.isEmpty { return true }
                state.idleWaiter = continuation
                return false
            }
            if idle { continuation.resume(returning: true) }
        }
    }
}

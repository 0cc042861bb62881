import Dispatch
import Foundation
import Synchronization

/// A task executor with one thread of its own.
///
/// The pool's bookkeeping (the heartbeat, the reaper and the cancel listener, which mostly wait) runs on
/// one: it must not share a thread with handlers. Handlers on Swift's global executor may block its
/// threads (two on a two-core machine), and with ``JobWorkerPool/HandlerPlacement/queueThreads`` they may
/// hold up the connections' threads; a heartbeat stuck behind either lapses, and another process takes the
/// jobs over while they run (the fault suite saw each such job run twice). With
/// ``JobWorkerPool/HandlerPlacement/dedicatedThreads`` each slot runs its handlers on one, and a handler
/// that outlives its time limit keeps its thread to itself while the slot goes on with a new one.
final class ThreadExecutor: TaskExecutor, Sendable {
    private struct State {
        var jobs: [UnownedJob] = []
        var started = false
        var stopped = false
    }

    private let state = Mutex(State())
    private let wakeups = DispatchSemaphore(value: 0)
    private let name: String

    init(name: String) {
        self.name = name
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let (accepted, start) = state.withLock { state -> (Bool, Bool) in
            if state.stopped { return (false, false) }
            state.jobs.append(job)
            defer { state.started = true }
            return (true, !state.started)
        }
        guard accepted else {
            // After the pool stopped: what still prefers this executor runs on the global one.
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
            return
        }
        if start {
            let thread = Thread { [self] in run() }
            thread.name = name
            thread.start()
        }
        wakeups.signal()
    }

    private func run() {
        let executor = asUnownedTaskExecutor()
        while true {
            wakeups.wait()
            let (jobs, stopped) = state.withLock { state -> ([UnownedJob], Bool) in
                defer { state.jobs = [] }
                return (state.jobs, state.stopped)
            }
            for job in jobs { job.runSynchronously(on: executor) }
            if stopped && jobs.isEmpty { return }
        }
    }

    /// Ends the thread once the tasks queued so far have run; tasks that come later run on the global executor.
    func shutdown() {
        let started = state.withLock { state -> Bool in
            state.stopped = true
            return state.started
        }
        if started { wakeups.signal() }
    }
}

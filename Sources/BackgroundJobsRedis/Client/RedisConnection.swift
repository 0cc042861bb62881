import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One connection to Redis, served by a thread of its own.
///
/// hiredis makes blocking calls, and a blocking call on Swift's cooperative pool stalls every task of a
/// two-core machine. So tasks never call hiredis: they queue a command and await its reply, while the
/// connection's thread writes everything queued as one pipeline and hands replies back in order. Many
/// tasks sending at once therefore share round trips instead of waiting for one each.
///
/// The connection connects on first use and reconnects by itself, with backoff, after the server goes
/// away; a command that was sent but not answered then fails with ``RedisError/Code/connectionLost`` and
/// is never sent again, because it may have been applied.
public final class RedisConnection: RedisCommandSender {
    let core: RedisConnectionCore

    /// A connection that waits `extraReplyTime` longer than the command timeout for replies; blocking
    /// connections use it to cover the server-side timeout of their blocking commands.
    init(
        configuration: RedisConfiguration, extraReplyTime: Duration = .zero, label: String, outage: RedisOutage = RedisOutage(),
        logger: Logger
    ) {
        self.core = RedisConnectionCore(
            configuration: configuration, replyTimeout: configuration.commandTimeout + extraReplyTime, label: label, outage: outage,
            logger: logger)
    }

    deinit {
        core.beginClose()
    }

    /// Sends one command and awaits its reply.
    public func send(_ command: RedisCommand) async throws(RedisError) -> RedisValue {
        try await core.send(command)
    }

    /// Sends `prelude`, then `command` right behind it, and returns the reply of `command`: for a blocking
    /// command (the prelude) whose return should run another at once, in the same round trip.
    public func send(_ command: RedisCommand, after prelude: RedisCommand) async throws(RedisError) -> RedisValue {
        try await core.send(command, after: prelude)
    }

    /// The connection's thread as a task executor: a task that prefers it runs on that thread between
    /// the connection's reads and writes, and the replies it awaits resume it there, with no hand-off to
    /// another thread. Such a task must not block or compute for long, since the connection's commands
    /// wait for it meanwhile. After a close, tasks that prefer it run on the global executor.
    public var taskExecutor: any TaskExecutor { core }

    /// Stops accepting commands, lets those already queued finish, then closes the socket and ends the thread.
    public func close() async {
        await core.close()
    }
}

/// A command waiting for its reply, with the continuation of the task that sent it.
struct PendingCommand: Sendable {
    let name: String
    let frame: [UInt8]
    /// Until when the command may wait for a connection before it fails unsent; the thread sets it when
    /// it finds no connection up, so the common path never reads the clock.
    var deadline: ContinuousClock.Instant?
    /// `nil` for a command sent ahead of another whose reply alone is awaited (see
    /// ``RedisConnectionCore/send(_:after:)``).
    let continuation: UnsafeContinuation<Result<RedisValue, RedisError>, Never>?

    func complete(_ result: Result<RedisValue, RedisError>) {
        continuation?.resume(returning: result)
    }
}

/// The state shared between the tasks that send and the connection's thread; also the executor of
/// the tasks that prefer to run on that thread.
///
/// A class with `let` properties whose mutable state is behind the `state` mutex, so it is `Sendable`.
final class RedisConnectionCore: TaskExecutor {
    struct State {
        var pending: [PendingCommand] = []
        /// Tasks to run on the thread (the executor's queue).
        var jobs: [UnownedJob] = []
        var threadStarted = false
        /// The thread waits in `poll` with nothing to do, and must be woken through the pipe. (While it
        /// reads replies it is not woken: what is queued then waits for those replies.)
        var parked = false
        /// While the thread waits idle on a connection that is up, with nothing in flight: the socket, on
        /// which a sender writes its command itself (see ``RedisConnectionCore/writeIdle(_:in:)``); -1
        /// otherwise.
        var idleSocket: Int32 = -1
        /// Commands senders wrote on `idleSocket`, in order; the thread takes them as in flight.
        var written: [PendingCommand] = []
        /// When the first of `written` was written (`nil` while there is none): their replies are due
        /// within the reply timeout.
        var writtenAt: ContinuousClock.Instant?
        /// The bytes of the last of `written` that a short write left (a slice of its frame, not a copy):
        /// the thread writes them before anything else.
        var unwritten: ArraySlice<UInt8> = []
        var closing = false
        /// The thread takes nothing more: tasks enqueued from now on run on the global executor.
        var stopped = false
        var finished = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private enum SendAction {
        case none, wake, startThread, reject
    }

    let configuration: RedisConfiguration
    let replyTimeout: Duration
    let label: String
    let outage: RedisOutage
    let logger: Logger
    let state = Mutex(State())
    /// A pipe the thread polls beside its socket, so a sender can wake it from an idle wait.
    let wakeFD: Int32
    private let wakeWriteFD: Int32
    /// The thread's id once it runs (0 before), so a sender can tell it is already on this thread.
    private let threadID = Atomic<UInt>(0)

    init(configuration: RedisConfiguration, replyTimeout: Duration, label: String, outage: RedisOutage, logger: Logger) {
        self.configuration = configuration
        self.replyTimeout = replyTimeout
        self.label = label
        self.outage = outage
        self.logger = logger
        var pipeFDs: [Int32] = [-1, -1]
        // Without a pipe the connection cannot work at all; this fails only when the process is out of fds.
        precondition(pipe(&pipeFDs) == 0, "pipe failed: \(String(cString: strerror(errno)))")
        for fd in pipeFDs {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        self.wakeFD = pipeFDs[0]
        self.wakeWriteFD = pipeFDs[1]
    }

    deinit {
        Glibc.close(wakeFD)
        Glibc.close(wakeWriteFD)
    }

    /// Whether the caller runs on this connection's thread.
    var isCurrentThread: Bool {
        let id = threadID.load(ordering: .relaxed)
        return id != 0 && id == Self.currentThreadID
    }

    private static var currentThreadID: UInt {
        #if canImport(Glibc)
        UInt(pthread_self())
        #else
        UInt(bitPattern: pthread_self())
        #endif
    }

    func send(_ command: RedisCommand) async throws(RedisError) -> RedisValue {
        let result = await withUnsafeContinuation { (continuation: UnsafeContinuation<Result<RedisValue, RedisError>, Never>) in
            let pending = PendingCommand(name: command.name, frame: command.frame, deadline: nil, continuation: continuation)
            let accepted = hand { state in
                guard !state.closing else { return false }
                Self.writeIdle([pending], in: &state)
                return true
            }
            if !accepted { pending.complete(.failure(RedisError(.clientClosed, "\(command.name) was not sent: the connection is closed"))) }
        }
        return try result.get()
    }

    /// Sends `prelude` and then `command` back to back, and awaits the reply of `command` alone: Redis runs
    /// a connection's commands in order, so `command` runs the moment `prelude` is answered (after a
    /// blocking one has returned), without a round trip in between. A failed connection fails `command`;
    /// `prelude`'s own error reply is dropped with its reply.
    func send(_ command: RedisCommand, after prelude: RedisCommand) async throws(RedisError) -> RedisValue {
        let result = await withUnsafeContinuation { (continuation: UnsafeContinuation<Result<RedisValue, RedisError>, Never>) in
            let first = PendingCommand(name: prelude.name, frame: prelude.frame, deadline: nil, continuation: nil)
            let pending = PendingCommand(name: command.name, frame: command.frame, deadline: nil, continuation: continuation)
            let accepted = hand { state in
                guard !state.closing else { return false }
                Self.writeIdle([first, pending], in: &state)
                return true
            }
            if !accepted { pending.complete(.failure(RedisError(.clientClosed, "\(command.name) was not sent: the connection is closed"))) }
        }
        return try result.get()
    }

    /// Queues a task to run on the connection's thread; once the thread has stopped, on the global
    /// executor instead, so a task that prefers a closed connection still runs.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let accepted = hand { state in
            guard !state.stopped else { return false }
            state.jobs.append(job)
            return true
        }
        if !accepted { globalConcurrentExecutor.enqueue(ExecutorJob(job)) }
    }

    /// Gives the thread work: `add` queues it under the lock (or refuses, returning `false`); then the
    /// thread is started or woken as it needs. Returns whether `add` accepted.
    private func hand(_ add: (inout State) -> Bool) -> Bool {
        let action = state.withLock { state -> SendAction in
            guard add(&state) else { return .reject }
            if !state.threadStarted {
                state.threadStarted = true
                return .startThread
            }
            // Written on the idle socket already (`add` always adds a job or a command): the thread wakes
            // when the reply arrives.
            if state.jobs.isEmpty && state.pending.isEmpty && state.unwritten.isEmpty { return .none }
            if state.parked {
                state.parked = false
                return .wake
            }
            return .none
        }
        switch action {
        case .none: break
        case .wake: wake()
        case .startThread: startThread()
        case .reject: return false
        }
        return true
    }

    func beginClose() {
        let mustWake = state.withLock { state -> Bool in
            state.closing = true
            if !state.threadStarted {
                state.stopped = true
                state.finished = true
            }
            defer { state.parked = false }
            return state.parked
        }
        if mustWake { wake() }
    }

    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let action = state.withLock { state -> (resumeNow: Bool, wake: Bool) in
                state.closing = true
                if !state.threadStarted {
                    state.stopped = true
                    state.finished = true
                }
                if state.finished { return (true, false) }
                state.closeWaiters.append(continuation)
                defer { state.parked = false }
                return (false, state.parked)
            }
            if action.resumeNow { continuation.resume() }
            if action.wake { wake() }
        }
    }

    func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWriteFD, &byte, 1)
    }

    private func startThread() {
        let thread = Thread { [self] in
            Self.nameCurrentThread(label)
            RedisConnectionLoop(core: self).run()
        }
        thread.name = label
        thread.start()
    }

    /// Gives the calling thread `name` in the kernel, so `ps`, `perf` and `top -H` show which connection
    /// a thread serves. Foundation's `Thread.name` does not do it reliably on Linux: it applies the name
    /// only once the creating thread has stored the new thread's handle, which under load comes after
    /// the thread has started. Glibc's `pthread_setname_np` is not imported into Swift, hence the file.
    private static func nameCurrentThread(_ name: String) {
        #if os(Linux)
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        Glibc.close(fd)
        #endif
    }

    // MARK: Called by the thread

    func threadBegan() {
        threadID.store(Self.currentThreadID, ordering: .relaxed)
    }

    /// Writes `commands` on the socket of a connection whose thread waits idle, from the sender's own
    /// thread, or queues them for the thread. A command sent to an idle connection (the common case
    /// below full load) so costs one wake-up of the thread, for its reply, instead of two: one to write
    /// it and one to read the reply (jobs-bench enqueue-single from one task: 11.9k → 13.3k jobs/s).
    ///
    /// Called under the lock, so the thread, which must take the lock to stop waiting, does not touch
    /// the socket meanwhile. The write never blocks: what the socket does not take at once is left to
    /// the thread (a short write's rest, then the commands after it), and a write that fails leaves its
    /// command unsent, for the thread to send and to find the failure. A socket with anything to read
    /// while nothing is in flight is one the server is closing (or an error it sent): its commands go to
    /// the thread, which drops that connection and sends them on a new one, as before this path existed.
    static func writeIdle(_ commands: [PendingCommand], in state: inout State) {
        if state.idleSocket >= 0 && state.written.isEmpty {
            var byte: UInt8 = 0
            let peeked = recv(state.idleSocket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
            if peeked >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { state.idleSocket = -1 }
        }
        var next = 0
        while next < commands.count, state.idleSocket >= 0, state.unwritten.isEmpty, state.pending.isEmpty, state.jobs.isEmpty {
            let frame = commands[next].frame
            let count = frame.withUnsafeBytes { Glibc.send(state.idleSocket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            guard count > 0 else {
                state.idleSocket = -1
                break
            }
            if state.written.isEmpty { state.writtenAt = .now }
            state.written.append(commands[next])
            next += 1
            if count < frame.count {
                state.unwritten = frame[count...]
                state.idleSocket = -1
            }
        }
        state.pending.append(contentsOf: commands[next...])
    }

    /// Marks the thread as about to wait idle, with `socket` open for senders' writes (-1: none, as
    /// while connecting); `false` (and no wait) when there is work it must do first.
    func park(socket: Int32) -> Bool {
        state.withLock { state in
            guard state.jobs.isEmpty, state.pending.isEmpty, state.unwritten.isEmpty, !state.closing else { return false }
            state.parked = true
            state.idleSocket = socket
            return true
        }
    }

    /// Ends an idle wait; returns since when commands written on the socket meanwhile await their replies.
    @discardableResult
    func unpark() -> ContinuousClock.Instant? {
        state.withLock { state in
            state.parked = false
            state.idleSocket = -1
            return state.writtenAt
        }
    }

    /// Takes the commands senders wrote on the idle socket, and the rest of a short write.
    func takeWritten(into commands: inout [PendingCommand]) -> ArraySlice<UInt8> {
        state.withLock { state in
            swap(&state.written, &commands)
            state.writtenAt = nil
            defer { state.unwritten = [] }
            return state.unwritten
        }
    }

    /// At a close: stops the thread if nothing is left to run or send.
    func finishIfIdle() -> Bool {
        state.withLock { state in
            guard state.jobs.isEmpty, state.pending.isEmpty, state.written.isEmpty else { return false }
            state.stopped = true
            return true
        }
    }

    /// Called by the thread as it ends.
    func threadFinished() {
        threadID.store(0, ordering: .relaxed)
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.finished = true
            defer { state.closeWaiters = [] }
            return state.closeWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

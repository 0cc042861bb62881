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
    init(configuration: RedisConfiguration, extraReplyTime: Duration = .zero, label: String, logger: Logger) {
        self.core = RedisConnectionCore(
            configuration: configuration, replyTimeout: configuration.commandTimeout + extraReplyTime, label: label, logger: logger)
    }

    deinit {
        core.beginClose()
    }

    /// Sends one command and awaits its reply.
    public func send(_ command: RedisCommand) async throws(RedisError) -> RedisValue {
        try await core.send(command)
    }

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
    let continuation: UnsafeContinuation<Result<RedisValue, RedisError>, Never>

    func complete(_ result: Result<RedisValue, RedisError>) {
        continuation.resume(returning: result)
    }
}

/// The state shared between the tasks that send and the connection's thread.
final class RedisConnectionCore: Sendable {
    struct State {
        var pending: [PendingCommand] = []
        var threadStarted = false
        /// The thread is waiting in `poll` and must be woken through the event fd.
        var threadSleeping = false
        var closing = false
        var finished = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private enum SendAction {
        case none, wake, startThread, reject
    }

    let configuration: RedisConfiguration
    let replyTimeout: Duration
    let label: String
    let logger: Logger
    let state = Mutex(State())
    /// A pipe the thread polls beside its socket, so a sender can wake it from an idle wait.
    let wakeFD: Int32
    private let wakeWriteFD: Int32

    init(configuration: RedisConfiguration, replyTimeout: Duration, label: String, logger: Logger) {
        self.configuration = configuration
        self.replyTimeout = replyTimeout
        self.label = label
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

    func send(_ command: RedisCommand) async throws(RedisError) -> RedisValue {
        let result = await withUnsafeContinuation { (continuation: UnsafeContinuation<Result<RedisValue, RedisError>, Never>) in
            let pending = PendingCommand(name: command.name, frame: command.frame, deadline: nil, continuation: continuation)
            let action = state.withLock { state -> SendAction in
                if state.closing { return .reject }
                state.pending.append(pending)
                if !state.threadStarted {
                    state.threadStarted = true
                    return .startThread
                }
                if state.threadSleeping {
                    state.threadSleeping = false
                    return .wake
                }
                return .none
            }
            switch action {
            case .none: break
            case .wake: wake()
            case .startThread: startThread()
            case .reject: pending.complete(.failure(RedisError(.clientClosed, "\(command.name) was not sent: the connection is closed")))
            }
        }
        return try result.get()
    }

    func beginClose() {
        let mustWake = state.withLock { state -> Bool in
            state.closing = true
            if !state.threadStarted { state.finished = true }
            defer { state.threadSleeping = false }
            return state.threadSleeping
        }
        if mustWake { wake() }
    }

    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let action = state.withLock { state -> (resumeNow: Bool, wake: Bool) in
                state.closing = true
                if !state.threadStarted { state.finished = true }
                if state.finished { return (true, false) }
                state.closeWaiters.append(continuation)
                defer { state.threadSleeping = false }
                return (false, state.threadSleeping)
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
            RedisConnectionLoop(core: self).run()
        }
        thread.name = label
        thread.start()
    }

    /// Called by the thread as it ends.
    func threadFinished() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.finished = true
            defer { state.closeWaiters = [] }
            return state.closeWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

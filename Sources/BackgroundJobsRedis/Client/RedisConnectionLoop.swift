internal import CHiredis
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The work of a connection's thread: connect, write queued commands as pipelines, read their replies,
/// and run the tasks that prefer this connection as their executor.
///
/// Everything here is confined to that one thread, including the hiredis context, so it needs no lock;
/// it meets the senders only through ``RedisConnectionCore/state``.
///
/// One turn of the loop runs the tasks resumed since the last turn, writes every command queued (by
/// those tasks and by others), then takes the replies that have arrived, resuming their tasks. A task
/// that runs here and sends a command is resumed here by its reply, so its round trips never hand it
/// from one thread to another.
final class RedisConnectionLoop {
    private let core: RedisConnectionCore
    private var context: UnsafeMutablePointer<redisContext>?
    /// Commands taken from the queue that are not sent yet because no connection is up.
    private var unsent: [PendingCommand] = []
    /// Commands written and awaiting their replies, oldest first from `answered`.
    private var inFlight: [PendingCommand] = []
    private var answered = 0
    /// The buffers swapped with the shared queues, so taking them allocates nothing.
    private var takenCommands: [PendingCommand] = []
    private var takenJobs: [UnownedJob] = []
    private var takenWritten: [PendingCommand] = []
    private var reconnectDelay: Duration
    private var nextConnectAttempt: ContinuousClock.Instant?
    private var lastConnectError: RedisError?
    /// The wake-up pipe and the socket, polled while the thread waits idle (kept, so a wait allocates nothing).
    private var pollFDs = [pollfd](repeating: pollfd(), count: 2)

    private var configuration: RedisConfiguration { core.configuration }
    private var logger: Logger { core.logger }

    init(core: RedisConnectionCore) {
        self.core = core
        self.reconnectDelay = core.configuration.reconnectDelay
    }

    func run() {
        Self.blockSIGPIPE()
        core.threadBegan()
        while true {
            let closing = takeWork()
            if !unsent.isEmpty {
                if context == nil {
                    stampDeadlines()
                    // Commands queued before a close still deserve their one attempt at a connection.
                    let connected = closing ? connectBeforeClosing() : connectIfDue()
                    guard connected else { continue }
                }
                send()
            }
            if answered < inFlight.count {
                readReplies()
            } else if unsent.isEmpty {
                if closing {
                    if core.finishIfIdle() { break }
                    continue
                }
                waitIdle(until: nil)
            }
        }
        disconnect()
        core.threadFinished()
    }

    // MARK: Queues

    /// Takes every queued task and command in one go; runs the tasks and moves the commands to `unsent`.
    /// Returns whether the connection is closing.
    private func takeWork() -> Bool {
        takeWritten()
        let closing = core.state.withLock { state -> Bool in
            swap(&state.jobs, &takenJobs)
            swap(&state.pending, &takenCommands)
            return state.closing
        }
        if !takenCommands.isEmpty {
            unsent.append(contentsOf: takenCommands)
            takenCommands.removeAll(keepingCapacity: true)
        }
        if !takenJobs.isEmpty {
            let executor = core.asUnownedTaskExecutor()
            for job in takenJobs { job.runSynchronously(on: executor) }
            takenJobs.removeAll(keepingCapacity: true)
            // What the tasks just sent leaves with this turn's write.
            core.state.withLock { swap(&$0.pending, &takenCommands) }
            unsent.append(contentsOf: takenCommands)
            takenCommands.removeAll(keepingCapacity: true)
        }
        return closing
    }

    /// Commands senders wrote on the idle socket are in flight, ahead of anything this thread writes; the
    /// rest of a short write goes out first, unless they are about to fail anyway (`flushing` false).
    private func takeWritten(flushing: Bool = true) {
        let unwritten = core.takeWritten(into: &takenWritten)
        guard !takenWritten.isEmpty else { return }
        addInFlight(takenWritten)
        takenWritten.removeAll(keepingCapacity: true)
        if let context, flushing, !unwritten.isEmpty {
            Self.append(unwritten, to: context)
            writeBuffered(context)
        }
    }

    /// Sleeps until a sender or a task wakes the thread, a reply to a command a sender wrote arrives, the
    /// idle socket closes, or `deadline` passes. A connection that is up is open to senders' writes
    /// meanwhile (``RedisConnectionCore/writeIdle(_:in:)``); the replies to those are awaited here, for
    /// the reply timeout at most.
    private func waitIdle(until deadline: ContinuousClock.Instant?) {
        let socket = context?.pointee.fd ?? -1
        var writtenAt: ContinuousClock.Instant?
        while true {
            guard core.park(socket: socket) else { return }
            var until = deadline
            if socket >= 0 {
                // Woken at the latest when replies to what senders write meanwhile are due.
                let due = (writtenAt ?? .now) + core.replyTimeout
                until = min(until ?? due, due)
            }
            pollFDs[0] = pollfd(fd: core.wakeFD, events: Int16(POLLIN), revents: 0)
            pollFDs[1] = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollFDs, socket >= 0 ? 2 : 1, Self.pollTimeout(until: until))
            writtenAt = core.unpark()
            let woken = ready > 0 && pollFDs[0].revents != 0
            if woken { drainWakeups() }
            if ready > 0, socket >= 0, pollFDs[1].revents != 0 {
                if writtenAt == nil {
                    // Nothing is in flight, so anything readable is the server closing the connection (a
                    // restart, CLIENT KILL, an idle timeout): drop it now instead of failing the next
                    // command on it.
                    logger.info("Redis closed an idle connection", metadata: ["redis.connection": "\(core.label)"])
                    disconnect()
                }
                return
            }
            guard ready == 0 else { return }
            if let writtenAt, ContinuousClock.now >= writtenAt + core.replyTimeout {
                takeWritten(flushing: false)
                lose(replyTimeoutError())
                return
            }
            if let deadline, ContinuousClock.now >= deadline { return }
        }
    }

    private func drainWakeups() {
        var drain = [UInt8](repeating: 0, count: 64)
        while Glibc.read(core.wakeFD, &drain, drain.count) > 0 {}
    }

    private static func pollTimeout(until deadline: ContinuousClock.Instant?) -> Int32 {
        guard let deadline else { return -1 }
        let remaining = ContinuousClock.now.duration(to: deadline)
        return remaining <= .zero ? 0 : Int32(clamping: remaining.milliseconds + 1)
    }

    // MARK: Connecting

    /// Connects when the backoff allows; fails unsent commands whose wait is over. Returns whether a
    /// connection is up.
    private func connectIfDue() -> Bool {
        let now = ContinuousClock.now
        if let next = nextConnectAttempt, now < next {
            failExpiredUnsent(now: now)
            let earliest = unsent.compactMap(\.deadline).min()
            waitIdle(until: earliest.map { min($0, next) } ?? next)
            return false
        }
        switch connect() {
        case .success(let newContext):
            context = newContext
            reconnectDelay = configuration.reconnectDelay
            nextConnectAttempt = nil
            lastConnectError = nil
            core.outage.connected()
            logger.debug("connected to Redis", metadata: ["redis.endpoint": "\(configuration.endpoint)", "redis.connection": "\(core.label)"])
            return true
        case .failure(let error):
            lastConnectError = error
            core.outage.connectFailed(at: now)
            nextConnectAttempt = ContinuousClock.now + reconnectDelay
            reconnectDelay = min(reconnectDelay * 2, configuration.maximumReconnectDelay)
            logger.debug("could not connect to Redis", metadata: ["redis.endpoint": "\(configuration.endpoint)", "error": "\(error)"])
            if error.code == .authenticationFailed || error.code == .invalidConfiguration {
                // Waiting will not fix credentials or a database index: fail at once.
                failUnsent(error)
            } else {
                failExpiredUnsent(now: ContinuousClock.now)
            }
            return false
        }
    }

    /// One connect attempt for the commands still queued at close, whatever the backoff; on failure they
    /// fail unsent with the reason.
    private func connectBeforeClosing() -> Bool {
        switch connect() {
        case .success(let newContext):
            context = newContext
            return true
        case .failure(let error):
            failUnsent(RedisError(.connectionFailed, "the connection closed before it could send: \(error.message)"))
            return false
        }
    }

    private func connect() -> Result<UnsafeMutablePointer<redisContext>, RedisError> {
        let timeout = Self.timeval(configuration.connectTimeout)
        let newContext: UnsafeMutablePointer<redisContext>?
        switch configuration.endpoint {
        case .tcp(let host, let port): newContext = redisConnectWithTimeout(host, Int32(port), timeout)
        case .unixSocket(let path): newContext = redisConnectUnixWithTimeout(path, timeout)
        }
        guard let newContext else {
            return .failure(RedisError(.connectionFailed, "could not allocate a connection to Redis at \(configuration.endpoint)"))
        }
        if newContext.pointee.err != 0 {
            let reason = Self.errorText(newContext)
            redisFree(newContext)
            return .failure(RedisError(.connectionFailed, "could not connect to Redis at \(configuration.endpoint): \(reason)"))
        }
        redisSetTimeout(newContext, Self.timeval(core.replyTimeout))
        if case .tcp = configuration.endpoint { redisEnableKeepAlive(newContext) }
        if let error = handshake(newContext) {
            redisFree(newContext)
            return .failure(error)
        }
        return .success(newContext)
    }

    /// AUTH, SELECT and CLIENT SETNAME, sent as one pipeline on every (re)connect.
    private func handshake(_ context: UnsafeMutablePointer<redisContext>) -> RedisError? {
        var commands: [(RedisCommand, RedisError.Code)] = []
        if let password = configuration.password {
            let auth = configuration.username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password)
            commands.append((auth, .authenticationFailed))
        }
        if configuration.database != 0 {
            commands.append((RedisCommand("SELECT", configuration.database), .invalidConfiguration))
        }
        if let name = configuration.clientName {
            commands.append((RedisCommand("CLIENT", "SETNAME", name), .invalidConfiguration))
        }
        for (command, _) in commands { Self.append(command.frame[...], to: context) }
        var firstError: RedisError?
        for (command, code) in commands {
            var reply: UnsafeMutableRawPointer?
            guard redisGetReply(context, &reply) == REDIS_OK, let reply else {
                return RedisError(.connectionFailed, "Redis at \(configuration.endpoint) closed the connection during \(command.name): \(Self.errorText(context))")
            }
            let value = Self.value(of: reply.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(reply)
            if case .error(let message) = value, firstError == nil {
                firstError = RedisError(code, "Redis at \(configuration.endpoint) refused \(command.name): \(message)")
            }
        }
        return firstError
    }

    private func disconnect() {
        guard let context else { return }
        redisFree(context)
        self.context = nil
    }

    /// Gives unsent commands that have none a deadline for waiting on a connection: the command timeout,
    /// which rides out a restart. Once a command has waited that long in vain, a new one waits only for
    /// the next connect attempt, so callers learn of an outage at once (an API answers 503 within the
    /// maximum reconnect delay, not after every request's full timeout).
    private func stampDeadlines() {
        guard unsent.contains(where: { $0.deadline == nil }) else { return }
        let now = ContinuousClock.now
        var deadline = now + configuration.commandTimeout
        if core.outage.outlastedTimeout {
            deadline = min(deadline, nextConnectAttempt ?? now)
        }
        for index in unsent.indices where unsent[index].deadline == nil {
            unsent[index].deadline = deadline
        }
    }

    private func failUnsent(_ error: RedisError) {
        let failed = unsent
        unsent = []
        for command in failed { command.complete(.failure(error)) }
    }

    private func failExpiredUnsent(now: ContinuousClock.Instant) {
        guard unsent.contains(where: { $0.deadline.map { $0 <= now } ?? false }) else { return }
        let reason = lastConnectError?.message ?? "no connection to Redis at \(configuration.endpoint)"
        var when = "within the command timeout"
        if let unreachableSince = core.outage.since {
            core.outage.commandTimedOutUnsent()
            let tenths = Int((now - unreachableSince) / .milliseconds(100))
            when = "while Redis has been unreachable for \(tenths / 10).\(tenths % 10) s"
        }
        var waiting: [PendingCommand] = []
        for command in unsent {
            if let deadline = command.deadline, deadline <= now {
                command.complete(.failure(RedisError(.connectionFailed, "\(command.name) was not sent \(when): \(reason)")))
            } else {
                waiting.append(command)
            }
        }
        unsent = waiting
    }

    // MARK: Pipelining

    /// Writes every unsent command behind those in flight: Redis always has the whole backlog.
    private func send() {
        guard let context else { return }
        for command in unsent { Self.append(command.frame[...], to: context) }
        addInFlight(unsent)
        unsent.removeAll(keepingCapacity: true)
        writeBuffered(context)
    }

    /// Appends commands on the wire to those awaiting replies, dropping the answered ones first when all are.
    private func addInFlight(_ commands: [PendingCommand]) {
        if answered == inFlight.count {
            inFlight.removeAll(keepingCapacity: true)
            answered = 0
        }
        inFlight.append(contentsOf: commands)
    }

    /// Writes what hiredis holds to be written; a failure loses the connection.
    private func writeBuffered(_ context: UnsafeMutablePointer<redisContext>) {
        var done: Int32 = 0
        repeat {
            guard redisBufferWrite(context, &done) == REDIS_OK else {
                lose(connectionError(context))
                return
            }
        } while done == 0
    }

    /// Hands out replies in order as they arrive, until every command sent is answered or tasks are
    /// queued to run. With no reply buffered it blocks reading the socket (bounded by the reply timeout):
    /// tasks queued meanwhile wait for those replies, which costs less than a poll before every read.
    private func readReplies() {
        while let context, answered < inFlight.count {
            while answered < inFlight.count {
                var reply: UnsafeMutableRawPointer?
                guard redisGetReplyFromReader(context, &reply) == REDIS_OK else {
                    lose(connectionError(context))
                    return
                }
                guard let reply else { break }
                let value = Self.value(of: reply.assumingMemoryBound(to: redisReply.self))
                freeReplyObject(reply)
                let command = inFlight[answered]
                answered += 1
                if case .error(let message) = value {
                    command.complete(.failure(.server(message, command: command.name)))
                } else {
                    command.complete(.success(value))
                }
            }
            if answered == inFlight.count {
                inFlight.removeAll(keepingCapacity: true)
                answered = 0
            } else if answered >= 256 {
                // Under sustained load the pipeline never drains; drop answered commands and their frames.
                inFlight.removeFirst(answered)
                answered = 0
            }
            // One write per read: what was queued since the last write leaves now, before this thread waits
            // for more replies. Tasks resumed by these replies (or queued otherwise) run first, at the top of
            // the loop, so what they send leaves with that write instead.
            let jobsWaiting = core.state.withLock { state -> Bool in
                if state.jobs.isEmpty { swap(&state.pending, &takenCommands) }
                return !state.jobs.isEmpty
            }
            if jobsWaiting { return }
            if !takenCommands.isEmpty {
                unsent.append(contentsOf: takenCommands)
                takenCommands.removeAll(keepingCapacity: true)
                send()
            }
            guard self.context != nil, answered < inFlight.count else { return }
            guard redisBufferRead(context) == REDIS_OK else {
                lose(connectionError(context))
                return
            }
        }
    }

    /// Fails every command in flight with `error` and drops the connection; it reconnects on the next send.
    private func lose(_ error: RedisError) {
        logger.info("lost the connection to Redis", metadata: ["redis.connection": "\(core.label)", "error": "\(error)"])
        let failed = inFlight[answered...]
        inFlight = []
        answered = 0
        for command in failed { command.complete(.failure(error)) }
        disconnect()
    }

    private func replyTimeoutError() -> RedisError {
        RedisError(.timeout, "Redis at \(configuration.endpoint) took in nothing within \(core.replyTimeout); the command may have been applied")
    }

    /// Adds raw RESP bytes (a command's frame, or the rest of one) to what hiredis is to write.
    private static func append(_ frame: ArraySlice<UInt8>, to context: UnsafeMutablePointer<redisContext>) {
        frame.withUnsafeBufferPointer { frame in
            frame.withMemoryRebound(to: CChar.self) { _ = redisAppendFormattedCommand(context, $0.baseAddress, $0.count) }
        }
    }

    private func connectionError(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        let failure = errno
        let reason = Self.errorText(context)
        switch context.pointee.err {
        case REDIS_ERR_IO where failure == EAGAIN || failure == EWOULDBLOCK:
            return replyTimeoutError()
        case REDIS_ERR_PROTOCOL:
            return RedisError(.protocolError, "Redis at \(configuration.endpoint) sent a malformed reply: \(reason)")
        case REDIS_ERR_EOF:
            return RedisError(.connectionLost, "Redis at \(configuration.endpoint) closed the connection; the command may have been applied")
        default:
            return RedisError(.connectionLost, "the connection to Redis at \(configuration.endpoint) broke (\(reason)); the command may have been applied")
        }
    }

    // MARK: C helpers

    /// Copies a hiredis reply tree into Swift values; the caller frees the reply.
    static func value(of reply: UnsafePointer<redisReply>) -> RedisValue {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            return .bulkString(Array(UnsafeRawBufferPointer(start: node.str, count: Int(node.len))))
        case REDIS_REPLY_STATUS:
            return .simpleString(String(decoding: UnsafeRawBufferPointer(start: node.str, count: Int(node.len)), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: UnsafeRawBufferPointer(start: node.str, count: Int(node.len)), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(node.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisValue] = []
            elements.reserveCapacity(Int(node.elements))
            for index in 0..<Int(node.elements) {
                elements.append(node.element[index].map { value(of: $0) } ?? .null)
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func timeval(_ duration: Duration) -> Glibc.timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }

    /// hiredis writes with `write`, which raises SIGPIPE on a closed socket and would kill the process.
    /// Blocking the signal on this thread alone turns it into an `EPIPE` error without touching the
    /// process-wide disposition the application may rely on.
    private static func blockSIGPIPE() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }
}

extension Duration {
    /// The duration in whole milliseconds, rounded down.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

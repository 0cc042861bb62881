public import Logging
import Synchronization

/// A Redis client: pipelined connections for ordinary commands, and dedicated connections for
/// blocking ones.
///
/// Commands sent concurrently from many tasks share round trips on the pipelined connections. Blocking
/// commands (`BLMOVE`, `BZPOPMIN`, `BRPOP`) would hold up everything queued behind them there, so they go
/// through ``withBlockingConnection(_:)``, which lends a connection of their own.
public final class RedisClient: RedisCommandSender {
    /// The configuration every connection of this client uses.
    public let configuration: RedisConfiguration
    private let connections: [RedisConnection]
    /// Shared by every connection of this client, the blocking ones too.
    private let outage: RedisOutage
    private let nextConnection = Atomic<Int>(0)
    private let blockingConnections: Mutex<BlockingConnections>
    private let logger: Logger

    private struct BlockingConnections {
        var idle: [RedisConnection] = []
        var created = 0
        var closed = false
    }

    /// Idle blocking connections kept for reuse; more are closed when given back.
    private static let maximumIdleBlockingConnections = 8

    /// A client; it connects on its first command.
    public init(configuration: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        let outage = RedisOutage()
        self.outage = outage
        self.connections = (0..<configuration.connectionCount).map { index in
            RedisConnection(configuration: configuration, label: "redis-\(index)", outage: outage, logger: logger)
        }
        self.blockingConnections = Mutex(BlockingConnections())
    }

    /// A client for a `redis://` or `unix://` URL.
    public convenience init(url: String, logger: Logger) throws(RedisError) {
        self.init(configuration: try RedisConfiguration(url: url), logger: logger)
    }

    /// Sends one command on a pipelined connection and awaits its reply. A task running on one of the
    /// connections' threads (see ``taskExecutors``) sends on that connection, so its reply resumes it
    /// where it runs; other tasks spread their commands over the connections.
    public func send(_ command: RedisCommand) async throws(RedisError) -> RedisValue {
        let connection: RedisConnection
        if connections.count == 1 {
            connection = connections[0]
        } else if let local = connections.first(where: { $0.core.isCurrentThread }) {
            connection = local
        } else {
            let index = nextConnection.wrappingAdd(1, ordering: .relaxed).oldValue
            connection = connections[index % connections.count]
        }
        return try await connection.send(command)
    }

    /// The threads of the pipelined connections as task executors (see
    /// ``RedisConnection/taskExecutor``), for tasks that mostly wait for Redis: a task that prefers one
    /// runs where its replies arrive instead of being handed to the global pool for each of them.
    public var taskExecutors: [any TaskExecutor] { connections.map(\.taskExecutor) }

    /// Lends a connection of its own for the duration of `body`, for commands that block on the server.
    ///
    /// Give blocking commands a server-side timeout no longer than
    /// ``RedisConfiguration/blockingTimeout``: the connection waits that much longer than the command
    /// timeout for a reply, and a close waits for it too.
    public func withBlockingConnection<Result>(
        _ body: (RedisConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try borrowBlockingConnection()
        do {
            let result = try await body(connection)
            await giveBack(connection)
            return result
        } catch {
            await giveBack(connection)
            throw error
        }
    }

    /// Closes every connection after the commands already queued on it are answered.
    public func close() async {
        let blocking = blockingConnections.withLock { state -> [RedisConnection] in
            state.closed = true
            defer { state.idle = [] }
            return state.idle
        }
        for connection in connections + blocking {
            await connection.close()
        }
    }

    private func borrowBlockingConnection() throws(RedisError) -> RedisConnection {
        let borrowed = blockingConnections.withLock { state -> RedisConnection?? in
            if state.closed { return .none }
            if let idle = state.idle.popLast() { return idle }
            state.created += 1
            return .some(nil)
        }
        guard let borrowed else { throw RedisError(.clientClosed, "the Redis client is closed") }
        if let borrowed { return borrowed }
        let number = blockingConnections.withLock { $0.created }
        return RedisConnection(
            configuration: configuration, extraReplyTime: configuration.blockingTimeout, label: "redis-blocking-\(number)",
            outage: outage, logger: logger)
    }

    private func giveBack(_ connection: RedisConnection) async {
        let kept = blockingConnections.withLock { state -> Bool in
            guard !state.closed, state.idle.count < Self.maximumIdleBlockingConnections else { return false }
            state.idle.append(connection)
            return true
        }
        if !kept { await connection.close() }
    }
}

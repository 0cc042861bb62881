/// How to reach and talk to one Redis server.
public struct RedisConfiguration: Sendable, Equatable {
    /// Where the server listens.
    public enum Endpoint: Sendable, Equatable, CustomStringConvertible {
        /// A TCP host name or address and a port.
        case tcp(host: String, port: Int)
        /// A Unix domain socket path.
        case unixSocket(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unixSocket(let path): "unix:\(path)"
            }
        }
    }

    /// Where the server listens.
    public var endpoint: Endpoint
    /// The ACL user name for `AUTH`; `nil` authenticates as the default user.
    public var username: String?
    /// The password for `AUTH`; `nil` sends no `AUTH`.
    public var password: String?
    /// The logical database, selected on every (re)connect.
    public var database: Int
    /// How long one connect attempt may take.
    public var connectTimeout: Duration
    /// How long a command may wait for its reply, and for a connection when none is up. Once a command has
    /// waited that long for a connection in vain, later ones wait only for the next connect attempt until
    /// a connect works again.
    public var commandTimeout: Duration
    /// The longest server-side timeout blocking commands (`BLMOVE`, `BZPOPMIN`) are given; blocking
    /// connections wait this much longer than ``commandTimeout`` for a reply.
    public var blockingTimeout: Duration
    /// The name shown by `CLIENT LIST`, set on every (re)connect.
    public var clientName: String?
    /// The number of pipelined connections that ordinary commands are spread over. Two, each with its
    /// own thread, gave 20–40 % more throughput than one on a two-core machine (`jobs-bench redis-set`).
    public var connectionCount: Int
    /// The first pause between reconnect attempts; it doubles up to ``maximumReconnectDelay``.
    public var reconnectDelay: Duration
    /// The longest pause between reconnect attempts.
    public var maximumReconnectDelay: Duration

    /// A configuration; every parameter has a default that suits a local server.
    public init(
        endpoint: Endpoint = .tcp(host: "127.0.0.1", port: 6379),
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5),
        blockingTimeout: Duration = .seconds(2),
        clientName: String? = nil,
        connectionCount: Int = 2,
        reconnectDelay: Duration = .milliseconds(10),
        maximumReconnectDelay: Duration = .seconds(1)
    ) throws(RedisError) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.blockingTimeout = blockingTimeout
        self.clientName = clientName
        self.connectionCount = connectionCount
        self.reconnectDelay = reconnectDelay
        self.maximumReconnectDelay = maximumReconnectDelay
        try validate()
    }

    /// Checks every value; the initialisers call it, and so should code that changes a property.
    public func validate() throws(RedisError) {
        func fail(_ message: String) -> RedisError { RedisError(.invalidConfiguration, message) }
        switch endpoint {
        case .tcp(let host, let port):
            guard !host.isEmpty else { throw fail("the Redis host is empty") }
            guard (1...65535).contains(port) else { throw fail("the Redis port \(port) is not in 1...65535") }
        case .unixSocket(let path):
            guard !path.isEmpty else { throw fail("the Redis socket path is empty") }
        }
        guard database >= 0 else { throw fail("the Redis database \(database) is negative") }
        guard connectTimeout > .zero else { throw fail("the connect timeout must be positive") }
        guard commandTimeout > .zero else { throw fail("the command timeout must be positive") }
        guard blockingTimeout > .zero else { throw fail("the blocking timeout must be positive") }
        guard connectionCount >= 1 else { throw fail("the connection count must be at least 1") }
        guard reconnectDelay > .zero, maximumReconnectDelay >= reconnectDelay else {
            throw fail("the reconnect delays must be positive, the maximum no less than the first")
        }
        if let clientName, clientName.unicodeScalars.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" }) {
            throw fail("the client name must not contain spaces or line breaks")
        }
    }
}

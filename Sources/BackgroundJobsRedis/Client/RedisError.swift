/// An error from the Redis client.
///
/// The ``code`` says what happened and, with it, whether a command may have been applied:
/// ``Code/connectionFailed`` and ``Code/clientClosed`` mean the command never reached Redis, while
/// ``Code/connectionLost``, ``Code/timeout`` and ``Code/protocolError`` mean its outcome is unknown.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case connectionFailed
            case connectionLost
            case timeout
            case authenticationFailed
            case serverError
            case protocolError
            case unexpectedReply
            case invalidConfiguration
            case clientClosed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No connection could be made; the command was never sent.
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection broke after the command was sent; it may or may not have been applied.
        public static let connectionLost = Code(.connectionLost)
        /// No reply came in time; the command may or may not have been applied.
        public static let timeout = Code(.timeout)
        /// Redis refused the credentials.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// Redis answered with an error reply.
        public static let serverError = Code(.serverError)
        /// The bytes from the server were not valid RESP; commands in flight may have been applied.
        public static let protocolError = Code(.protocolError)
        /// The reply had another shape than the caller expected.
        public static let unexpectedReply = Code(.unexpectedReply)
        /// The configuration (for example a `REDIS_URL`) is not valid.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The client was closed before the command was sent.
        public static let clientClosed = Code(.clientClosed)

        public var description: String { "\(base)" }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence that says what failed; it never contains command arguments.
    public var message: String
    /// For ``Code/serverError``: the reply's first word, such as `NOSCRIPT` or `WRONGTYPE`.
    public var serverErrorPrefix: String?
    /// The error that caused this one, if any.
    public var underlying: (any Error)?
    /// Where the error was thrown.
    public var file: String
    /// Where the error was thrown.
    public var line: Int

    /// Creates an error with the throw site.
    public init(
        _ code: Code,
        _ message: String,
        serverErrorPrefix: String? = nil,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.serverErrorPrefix = serverErrorPrefix
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// Whether the command may have been applied by Redis although it failed.
    public var outcomeUnknown: Bool { code == .connectionLost || code == .timeout || code == .protocolError }

    public var description: String {
        var text = "Redis \(code): \(message)"
        if let underlying { text += " (\(underlying))" }
        return text
    }

    /// An error reply of Redis as a thrown error.
    static func server(_ reply: String, command: String, file: String = #fileID, line: Int = #line) -> RedisError {
        let prefix = reply.prefix { $0 != " " }
        return RedisError(
            .serverError, "\(command) failed: \(reply)", serverErrorPrefix: String(prefix), file: file, line: line)
    }
}

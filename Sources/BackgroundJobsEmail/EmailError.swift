/// An email that could not be sent, with what went wrong and whether trying again may help.
public struct EmailError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String {
            case invalidAddress, invalidMessage, template, connection, timeout, tls, authentication, rejected, protocolError
        }
        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// An address or name that cannot go into a message.
        public static let invalidAddress = Code(.invalidAddress)
        /// A message that cannot be built (no recipient, a header with a line break, ...).
        public static let invalidMessage = Code(.invalidMessage)
        /// A template that is missing or does not render.
        public static let template = Code(.template)
        /// The server could not be reached, or the connection broke.
        public static let connection = Code(.connection)
        /// The server did not answer in time.
        public static let timeout = Code(.timeout)
        /// STARTTLS was required and not offered, or the TLS handshake failed.
        public static let tls = Code(.tls)
        /// The server refused the credentials.
        public static let authentication = Code(.authentication)
        /// The server answered a command with an error reply (``EmailError/reply`` has it).
        public static let rejected = Code(.rejected)
        /// The server's answer was not SMTP.
        public static let protocolError = Code(.protocolError)

        public var description: String { kind.rawValue }
    }

    public let code: Code
    public let message: String
    /// The server's reply code (4xx, 5xx), when the server answered.
    public let reply: Int?

    init(_ code: Code, _ message: String, reply: Int? = nil) {
        self.code = code
        self.message = message
        self.reply = reply
    }

    /// Whether a later attempt may succeed: a 4xx reply, a broken connection or a timeout. A 5xx reply,
    /// bad credentials, an invalid message or address will fail the same way again.
    public var isTransient: Bool {
        if let reply { return (400..<500).contains(reply) }
        return code == .connection || code == .timeout
    }

    public var description: String { message }
}

/// How to reach and talk to an SMTP server.
public struct SMTPConfiguration: Sendable {
    /// When the connection is encrypted.
    public struct Security: Sendable, Hashable {
        private enum Kind: Hashable { case none, startTLSIfOffered, startTLS }
        private let kind: Kind

        /// Never: for a relay on localhost or a trusted network.
        public static let none = Security(kind: .none)
        /// With STARTTLS when the server offers it, in the clear when it does not.
        public static let startTLSIfOffered = Security(kind: .startTLSIfOffered)
        /// With STARTTLS, and not at all when the server does not offer it.
        public static let startTLS = Security(kind: .startTLS)

        var wantsTLS: Bool { kind != .none }
        var requiresTLS: Bool { kind == .startTLS }
    }

    /// How the server's certificate is checked.
    public enum Trust: Sendable, Hashable {
        /// Against the system's trusted certificate authorities (the default).
        case system
        /// Against the certificates in a PEM file (a private CA, or a test server's own certificate).
        case certificates(pemFile: String)
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var trust: Trust
    /// The user name for `AUTH`; with none, no `AUTH` is sent.
    public var username: String?
    public var password: String?
    /// The name sent with `EHLO`.
    public var helloName: String
    /// How long connecting may take; by default 10 seconds.
    public var connectTimeout: Duration
    /// How long the server may take to answer one command; by default 30 seconds (RFC 5321 allows
    /// minutes for the end of `DATA`; raise it for slow relays).
    public var commandTimeout: Duration
    /// Idle connections kept for the next messages; by default 4.
    public var maximumIdleConnections: Int
    /// How long an idle connection is kept; servers close idle sessions after a few minutes.
    public var idleTimeout: Duration

    /// A configuration; every parameter but the host has a default.
    public init(
        host: String, port: Int = 587, security: Security = .startTLSIfOffered, trust: Trust = .system, username: String? = nil,
        password: String? = nil, helloName: String = "localhost", connectTimeout: Duration = .seconds(10),
        commandTimeout: Duration = .seconds(30), maximumIdleConnections: Int = 4, idleTimeout: Duration = .seconds(60)
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.trust = trust
        self.username = username
        self.password = password
        self.helloName = helloName
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.maximumIdleConnections = maximumIdleConnections
        self.idleTimeout = idleTimeout
    }
}

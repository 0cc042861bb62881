import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One SMTP session, ready to send messages: connected, greeted, encrypted when configured, signed in.
///
/// Its methods are called by one task at a time (the mailer lends a connection to one sender).
final class SMTPConnection: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<SMTPReplyHandler>
    private let timeout: TimeAmount
    /// Whether the session runs over TLS.
    let encrypted: Bool

    private init(channel: any Channel, handler: NIOLoopBound<SMTPReplyHandler>, timeout: TimeAmount, encrypted: Bool) {
        self.channel = channel
        self.handler = handler
        self.timeout = timeout
        self.encrypted = encrypted
    }

    var isOpen: Bool { channel.isActive }

    /// Connects and prepares a session: greeting, `EHLO`, `STARTTLS` (and `EHLO` again), `AUTH`.
    static func open(_ configuration: SMTPConfiguration, tls: NIOSSLContext?, logger: Logger) async throws(EmailError) -> SMTPConnection {
        let endpoint = "\(configuration.host):\(configuration.port)"
        let timeout = Self.timeAmount(configuration.commandTimeout)
        let channel: any Channel
        let handler: NIOLoopBound<SMTPReplyHandler>
        do {
            (channel, handler) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(Self.timeAmount(configuration.connectTimeout))
                .channelOption(.socketOption(.so_keepalive), value: 1)
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = SMTPReplyHandler()
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return (channel, NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    }
                }
        } catch {
            throw EmailError(.connection, "could not connect to the SMTP server at \(endpoint): \(error)")
        }
        var connection = SMTPConnection(channel: channel, handler: handler, timeout: timeout, encrypted: false)
        do throws(EmailError) {
            let greeting = try await connection.reply(to: nil as [UInt8]?, what: "with its greeting")
            guard greeting.code == 220 else { throw Self.refused("the greeting", greeting) }
            var capabilities = try await connection.hello(configuration.helloName)
            if configuration.security.wantsTLS {
                if capabilities.keywords.contains("STARTTLS"), let tls {
                    let reply = try await connection.reply(to: "STARTTLS", what: "STARTTLS")
                    guard reply.code == 220 else { throw Self.refused("STARTTLS", reply, code: .tls) }
                    try await connection.startTLS(tls, host: configuration.host)
                    connection = SMTPConnection(channel: channel, handler: handler, timeout: timeout, encrypted: true)
                    capabilities = try await connection.hello(configuration.helloName)
                } else if configuration.security.requiresTLS {
                    throw EmailError(.tls, "the SMTP server at \(endpoint) does not offer STARTTLS, which the configuration requires")
                }
            }
            if let username = configuration.username {
                try await connection.authenticate(username: username, password: configuration.password ?? "", offered: capabilities.authMechanisms)
            }
            logger.debug("SMTP session ready", metadata: ["smtp.server": "\(endpoint)", "smtp.tls": "\(connection.encrypted)"])
            return connection
        } catch {
            connection.close()
            throw error
        }
    }

    /// What `EHLO` told about the server.
    private struct Capabilities {
        var keywords: Set<String> = []
        var authMechanisms: Set<String> = []
    }

    private func hello(_ name: String) async throws(EmailError) -> Capabilities {
        let reply = try await reply(to: "EHLO \(name)", what: "EHLO")
        guard reply.code == 250 else { throw Self.refused("EHLO", reply) }
        var capabilities = Capabilities()
        for line in reply.lines.dropFirst() {
            let words = line.uppercased().split(separator: " ").map(String.init)
            guard let keyword = words.first else { continue }
            capabilities.keywords.insert(keyword)
            if keyword == "AUTH" { capabilities.authMechanisms.formUnion(words.dropFirst()) }
        }
        return capabilities
    }

    private func startTLS(_ context: NIOSSLContext, host: String) async throws(EmailError) {
        // A host name is checked against the certificate; an IP address is checked as an IP address.
        let hostname = host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
        let channel = self.channel
        do {
            try await channel.eventLoop.submit {
                let handler = try NIOSSLClientHandler(context: context, serverHostname: hostname)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            }.get()
        } catch {
            throw EmailError(.tls, "could not start TLS with the SMTP server: \(error)")
        }
    }

    private func authenticate(username: String, password: String, offered: Set<String>) async throws(EmailError) {
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        // Credentials never go into error messages or logs; only the server's reply does.
        if offered.contains("PLAIN") || !offered.contains("LOGIN") {
            let reply = try await reply(to: "AUTH PLAIN " + base64("\u{0}\(username)\u{0}\(password)"), what: "AUTH PLAIN")
            guard reply.code == 235 else { throw Self.refused("the credentials (AUTH PLAIN)", reply, code: .authentication) }
        } else {
            let start = try await reply(to: "AUTH LOGIN", what: "AUTH LOGIN")
            guard start.code == 334 else { throw Self.refused("AUTH LOGIN", start, code: .authentication) }
            let user = try await reply(to: base64(username), what: "the AUTH LOGIN user name")
            guard user.code == 334 else { throw Self.refused("the user name (AUTH LOGIN)", user, code: .authentication) }
            let done = try await reply(to: base64(password), what: "the AUTH LOGIN password")
            guard done.code == 235 else { throw Self.refused("the credentials (AUTH LOGIN)", done, code: .authentication) }
        }
    }

    /// Sends one message to `recipients`: each recipient's answer on its own (a 4xx or 5xx for one does
    /// not stop the others). A failure of the whole message (the sender refused, the data refused, the
    /// connection lost) is thrown.
    func send(_ data: [UInt8], from: EmailAddress, to recipients: [EmailAddress]) async throws(EmailError) -> [(EmailAddress, EmailError?)] {
        let mail = try await reply(to: "MAIL FROM:<\(from.address)>", what: "MAIL FROM")
        guard mail.code == 250 else {
            try? await reset()
            throw Self.refused("the sender \(from.address)", mail)
        }
        var outcomes: [(EmailAddress, EmailError?)] = []
        for recipient in recipients {
            let answer = try await reply(to: "RCPT TO:<\(recipient.address)>", what: "RCPT TO")
            outcomes.append((recipient, answer.code == 250 || answer.code == 251 ? nil : Self.refused("the recipient \(recipient.address)", answer)))
        }
        guard outcomes.contains(where: { $0.1 == nil }) else {
            try await reset()
            return outcomes
        }
        let start = try await reply(to: "DATA", what: "DATA")
        guard start.code == 354 else {
            try? await reset()
            throw Self.refused("DATA", start)
        }
        // The data ends in CRLF (MIMEMessage makes every line so); the lone dot ends the message.
        let done = try await reply(to: data + Array(".\r\n".utf8), what: "the end of the message")
        guard done.code == 250 else { throw Self.refused("the message", done) }
        return outcomes
    }

    /// `RSET`: forget a half-made message, keeping the session.
    func reset() async throws(EmailError) {
        let reply = try await reply(to: "RSET", what: "RSET")
        guard reply.code == 250 else { throw Self.refused("RSET", reply) }
    }

    /// `QUIT`, then close; errors are of no interest any more.
    func quit() async {
        _ = try? await reply(to: "QUIT", what: "QUIT")
        close()
    }

    func close() {
        channel.close(promise: nil)
    }

    private func reply(to line: String?, what: String) async throws(EmailError) -> SMTPReply {
        try await reply(to: line.map { Array(($0 + "\r\n").utf8) }, what: what)
    }

    /// Writes `bytes` (when given) and awaits the reply.
    private func reply(to bytes: [UInt8]?, what: String) async throws(EmailError) -> SMTPReply {
        let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
        let (channel, handler, timeout) = (self.channel, self.handler, self.timeout)
        channel.eventLoop.execute {
            handler.value.expect(promise, timeout: timeout, what: what)
            if let bytes { channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil) }
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as EmailError {
            throw error
        } catch let error as NIOSSLError {
            throw EmailError(.tls, "TLS with the SMTP server failed: \(error)")
        } catch {
            throw EmailError(.connection, "the connection to the SMTP server broke: \(error)")
        }
    }

    private static func refused(_ what: String, _ reply: SMTPReply, code: EmailError.Code = .rejected) -> EmailError {
        EmailError(code, "the SMTP server refused \(what): \(reply.code) \(reply.text)", reply: reply.code)
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

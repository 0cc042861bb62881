import Foundation
public import Logging
import NIOSSL
import Synchronization

/// Sends email through one SMTP server, keeping a few sessions open for the next messages, so a campaign
/// does not pay a connect, a TLS handshake and a sign-in per recipient.
///
/// Close it with ``close()`` when done.
public final class SMTPMailer: Sendable {
    public let configuration: SMTPConfiguration
    private let tls: Result<NIOSSLContext, EmailError>?
    private let idle = Mutex<[(connection: SMTPConnection, since: ContinuousClock.Instant)]>([])
    private let closed = Atomic<Bool>(false)
    private let logger: Logger

    /// A mailer for `configuration`; it connects when the first message is sent.
    public init(configuration: SMTPConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        if configuration.security.wantsTLS {
            var tls = TLSConfiguration.makeClientConfiguration()
            switch configuration.trust {
            case .system: break
            case .certificates(let file): tls.trustRoots = .file(file)
            }
            do {
                self.tls = .success(try NIOSSLContext(configuration: tls))
            } catch {
                self.tls = .failure(EmailError(.tls, "the TLS configuration for the SMTP server cannot be used: \(error)"))
            }
        } else {
            self.tls = nil
        }
    }

    /// What became of one message.
    public struct Delivery: Sendable {
        /// The recipients the server accepted the message for.
        public var accepted: [EmailAddress]
        /// The recipients it refused, with its reply (4xx: try again later; 5xx: do not).
        public var refused: [(EmailAddress, EmailError)]
    }

    /// Sends `message` to its recipients, or to `recipients` when given (the envelope: a retry sends to
    /// those not reached yet, while the headers still name everyone).
    ///
    /// - Throws: ``EmailError`` when the message as a whole failed: no connection, the sender or the data
    ///   refused; ``EmailError/isTransient`` tells whether trying again may help.
    public func send(_ message: EmailMessage, to recipients: [EmailAddress]? = nil, messageID: String? = nil) async throws(EmailError) -> Delivery {
        let envelope = recipients ?? message.recipients
        guard !envelope.isEmpty else { throw EmailError(.invalidMessage, "the message has no recipient") }
        let id = messageID ?? "\(UUID().uuidString.lowercased())@\(configuration.helloName)"
        let data = try MIMEMessage.render(message, date: Date(), messageID: id, boundary: "=_bj_\(UUID().uuidString.prefix(12))")
        var (connection, reused) = try await checkOut()
        let outcomes: [(EmailAddress, EmailError?)]
        do {
            outcomes = try await connection.send(data, from: message.from, to: envelope)
        } catch where reused && !connection.isOpen {
            // The server closed the idle session (its timeout); nothing was accepted on it: start afresh.
            connection.close()
            (connection, reused) = (try await open(), false)
            do {
                outcomes = try await connection.send(data, from: message.from, to: envelope)
            } catch {
                connection.close()
                throw error
            }
        } catch {
            if connection.isOpen && error.reply != nil { await checkIn(connection) } else { connection.close() }
            throw error
        }
        await checkIn(connection)
        return Delivery(
            accepted: outcomes.filter { $0.1 == nil }.map(\.0),
            refused: outcomes.compactMap { outcome in outcome.1.map { (outcome.0, $0) } })
    }

    /// Closes the idle sessions; sends after this still work, each on a session of its own.
    public func close() async {
        closed.store(true, ordering: .relaxed)
        let connections = idle.withLock { idle in
            defer { idle = [] }
            return idle.map(\.connection)
        }
        for connection in connections { await connection.quit() }
    }

    private func checkOut() async throws(EmailError) -> (SMTPConnection, reused: Bool) {
        let now = ContinuousClock.now
        let (fresh, stale) = idle.withLock { idle -> (SMTPConnection?, [SMTPConnection]) in
            let stale = idle.filter { now - $0.since > configuration.idleTimeout || !$0.connection.isOpen }.map(\.connection)
            idle.removeAll { now - $0.since > configuration.idleTimeout || !$0.connection.isOpen }
            return (idle.popLast()?.connection, stale)
        }
        for connection in stale { connection.close() }
        if let fresh { return (fresh, true) }
        return (try await open(), false)
    }

    private func open() async throws(EmailError) -> SMTPConnection {
        var context: NIOSSLContext?
        switch tls {
        case .success(let made)?: context = made
        case .failure(let error)?: throw error
        case nil: context = nil
        }
        return try await SMTPConnection.open(configuration, tls: context, logger: logger)
    }

    private func checkIn(_ connection: SMTPConnection) async {
        let kept = !closed.load(ordering: .relaxed) && connection.isOpen && idle.withLock { idle -> Bool in
            guard idle.count < configuration.maximumIdleConnections else { return false }
            idle.append((connection, .now))
            return true
        }
        if !kept { await connection.quit() }
    }
}

public import AsyncHTTPClient
public import BackgroundJobsCore
public import BackgroundJobsDomain
import Foundation
public import Logging
import NIOCore
import NIOHTTP1

/// Delivers `notification` jobs: POSTs the event as JSON, signed, and sorts the outcome into what a
/// retry can fix and what it cannot.
///
/// - 2xx: delivered; the status and time are the job's result.
/// - 5xx, 408, 429, a timeout, a refused or broken connection: the attempt fails and is retried with
///   backoff (the receiver may be down for a moment). The HTTP client keeps trying to connect until the
///   timeout, so a receiver that is down costs one timeout per attempt.
/// - Other 4xx, a 3xx (redirects are not followed), a URL that is malformed or not allowed: the job is
///   dead with the reason; sending it again would get the same answer.
///
/// Each request carries `X-BackgroundJobs-Delivery: <job id>`, the same on every attempt, so a receiver
/// can drop a delivery it already has: a worker that dies after the request but before recording it
/// delivers again.
public struct WebhookSender: Sendable {
    let httpClient: HTTPClient
    let configuration: WebhookConfiguration

    /// A sender on `httpClient`, which the caller owns (and shuts down); ``makeHTTPClient()`` makes one
    /// that does not follow redirects.
    public init(httpClient: HTTPClient, configuration: WebhookConfiguration = WebhookConfiguration()) {
        self.httpClient = httpClient
        self.configuration = configuration
    }

    /// An HTTP client for webhooks: redirects are not followed (a receiver that moved is an error to
    /// fix, not a hop to take on trust). Shut it down with `shutdown()` when done.
    public static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Registers the `notification` job type.
    public func register(into registry: inout JobRegistry, retry: RetryPolicy? = nil) {
        let sender = self
        registry.register(.notification, retry: retry) { notification, context in
            try await sender.deliver(notification, deliveryID: context.job.id.rawValue, logger: context.logger)
        }
    }

    /// Delivers one notification; see the type's documentation for how failures are sorted.
    public func deliver(_ notification: WebhookNotification, deliveryID: String, logger: Logger) async throws -> WebhookDelivery {
        let url = try checkedURL(notification.url)
        let body = try Self.body(of: notification, deliveryID: deliveryID)
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        for (name, value) in notification.headers ?? [:] { request.headers.replaceOrAdd(name: name, value: value) }
        request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        request.headers.replaceOrAdd(name: "User-Agent", value: "BackgroundJobs-Webhook/1")
        request.headers.replaceOrAdd(name: "X-BackgroundJobs-Event", value: notification.event)
        request.headers.replaceOrAdd(name: "X-BackgroundJobs-Delivery", value: deliveryID)
        if let secret = configuration.secret {
            let timestamp = Int(Date().timeIntervalSince1970)
            request.headers.replaceOrAdd(name: WebhookSignature.timestampHeader, value: String(timestamp))
            request.headers.replaceOrAdd(name: WebhookSignature.header, value: WebhookSignature.sign(body: body, timestamp: timestamp, secret: secret))
        }
        request.body = .bytes(body)

        let started = ContinuousClock.now
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, timeout: .nanoseconds(Self.nanoseconds(configuration.timeout)), logger: logger)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw WebhookError("no answer from \(Self.origin(url)) within \(configuration.timeout)")
        } catch let error as HTTPClientError where error == .invalidURL || error == .emptyHost || error == .unsupportedScheme(url.scheme ?? "") {
            throw NonRetryableError("the webhook URL cannot be used: \(error)")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw WebhookError("could not deliver to \(Self.origin(url)): \(error)")
        }
        // The body is read (up to the limit) so the connection can be reused, and for the error message.
        let answer = (try? await response.body.collect(upTo: configuration.maximumResponseBytes)).map { String(buffer: $0) } ?? ""
        let status = Int(response.status.code)
        let elapsed = ContinuousClock.now - started
        switch status {
        case 200..<300:
            return WebhookDelivery(status: status, milliseconds: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000))
        case 408, 429, 500..<600:
            throw WebhookError("\(Self.origin(url)) answered \(status)\(Self.excerpt(answer))")
        case 300..<400:
            throw NonRetryableError("\(Self.origin(url)) answered \(status), a redirect, which is not followed\(Self.excerpt(answer))")
        default:
            throw NonRetryableError("\(Self.origin(url)) refused the delivery with \(status)\(Self.excerpt(answer))")
        }
    }

    /// The body: `{"event", "data", "delivery_id", "sent_at"}`.
    static func body(of notification: WebhookNotification, deliveryID: String) throws -> [UInt8] {
        struct Body: Encodable {
            var event: String
            var data: JSONValue?
            var delivery_id: String
            var sent_at: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let sentAt = Date().formatted(.iso8601)
        return Array(try encoder.encode(Body(event: notification.event, data: notification.data, delivery_id: deliveryID, sent_at: sentAt)))
    }

    private func checkedURL(_ text: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else {
            throw NonRetryableError("the webhook URL \(text.prefix(200).debugDescription) is not an http or https URL with a host")
        }
        if let allowed = configuration.allowedHosts, !allowed.contains(host.lowercased()) {
            throw NonRetryableError("the webhook host \(host) is not among the allowed hosts")
        }
        return url
    }

    /// Scheme, host and port only: paths and queries of webhook URLs often carry tokens.
    private static func origin(_ url: URL) -> String {
        "\(url.scheme ?? "http")://\(url.host ?? "?")\(url.port.map { ":\($0)" } ?? "")"
    }

    private static func excerpt(_ answer: String) -> String {
        let trimmed = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? "" : ": \(trimmed.prefix(200))"
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// A delivery that failed in a way a retry may fix.
struct WebhookError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// How webhooks are delivered.
public struct WebhookConfiguration: Sendable {
    /// The key the body is signed with (HMAC-SHA256); `nil` sends unsigned requests.
    public var secret: [UInt8]?
    /// How long one delivery may take, connection included; by default 10 seconds.
    public var timeout: Duration
    /// When set, only URLs whose host is in it are delivered to; others fail for good. Webhook URLs
    /// come from job payloads, so without a list any host the worker can reach is reachable.
    public var allowedHosts: Set<String>?
    /// The largest response body read (the rest is dropped), so a receiver cannot flood the worker.
    public var maximumResponseBytes: Int

    /// A configuration; every parameter has a default.
    public init(secret: [UInt8]? = nil, timeout: Duration = .seconds(10), allowedHosts: Set<String>? = nil, maximumResponseBytes: Int = 64 * 1024) {
        self.secret = secret
        self.timeout = timeout
        self.allowedHosts = allowedHosts
        self.maximumResponseBytes = maximumResponseBytes
    }
}

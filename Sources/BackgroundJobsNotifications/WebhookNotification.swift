public import BackgroundJobsCore
public import BackgroundJobsDomain

/// The payload of a `notification` job: one event delivered to a webhook URL.
///
/// ```json
/// {"url": "https://hooks.example.com/orders", "event": "order.shipped", "data": {"order": 42}}
/// ```
public struct WebhookNotification: Codable, Sendable, Hashable {
    /// Where the event is POSTed (`http` or `https`).
    public var url: String
    /// The event's name, sent in the body and the `X-BackgroundJobs-Event` header.
    public var event: String
    /// What the receiver gets under `data`, passed on as it is.
    public var data: JSONValue?
    /// Extra request headers (`Content-Type` and the signature headers are set by the sender).
    public var headers: [String: String]?

    public init(url: String, event: String, data: JSONValue? = nil, headers: [String: String]? = nil) {
        self.url = url
        self.event = event
        self.data = data
        self.headers = headers
    }
}

/// What a delivered notification stores as the job's result.
public struct WebhookDelivery: Codable, Sendable, Hashable {
    /// The receiver's HTTP status.
    public var status: Int
    /// How long the request took, in milliseconds.
    public var milliseconds: Int
}

extension JobDefinition where Payload == WebhookNotification {
    /// The `notification` job type.
    public static var notification: JobDefinition<WebhookNotification> { JobDefinition("notification") }
}

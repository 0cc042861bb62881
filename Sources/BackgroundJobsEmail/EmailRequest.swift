public import BackgroundJobsCore
public import BackgroundJobsDomain

/// The payload of an `email` job (seed 003's shape, plus campaigns and named templates).
///
/// ```json
/// {"email_type": "welcome", "to": "ada@example.com", "username": "Ada"}
/// {"email_type": "password_reset", "to": "ada@example.com", "data": {"reset_url": "https://…", "expires_in": "1 hour"}}
/// {"email_type": "campaign", "recipients": [{"email": "a@x.org", "name": "A"}, "b@x.org"],
///  "data": {"subject": "News", "text": "…", "html": "<p>…</p>"}}
/// ```
public struct EmailRequest: Codable, Sendable, Hashable {
    /// Which message.
    public var emailType: EmailKind
    /// The recipients (all but campaigns): one address, or a list of addresses or `{email, name}`.
    public var to: [EmailAddress]
    /// A campaign's recipients, each sent a message of their own with their own data.
    public var recipients: [CampaignRecipient]
    /// The template for `email_type: template` (a campaign may name one instead of `campaign`).
    public var template: String?
    /// Values for the template.
    public var data: [String: JSONValue]
    /// Seed 003's shortcut for `data.username`.
    public var username: String?
    /// A subject that replaces the template's.
    public var subject: String?
    public var replyTo: EmailAddress?
    /// Addresses reached by an earlier attempt, which later attempts leave out.
    public var delivered: [String]
    /// Addresses the server refused for good (5xx) in an earlier attempt, with its reply.
    public var refused: [RefusedRecipient]

    public init(
        emailType: EmailKind, to: [EmailAddress] = [], recipients: [CampaignRecipient] = [], template: String? = nil,
        data: [String: JSONValue] = [:], username: String? = nil, subject: String? = nil, replyTo: EmailAddress? = nil
    ) {
        self.emailType = emailType
        self.to = to
        self.recipients = recipients
        self.template = template
        self.data = data
        self.username = username
        self.subject = subject
        self.replyTo = replyTo
        self.delivered = []
        self.refused = []
    }

    enum CodingKeys: String, CodingKey {
        case to, recipients, template, data, username, subject, delivered, refused
        case emailType = "email_type"
        case replyTo = "reply_to"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        emailType = try container.decode(EmailKind.self, forKey: .emailType)
        // One address (a string or an object) or a list of them; a bad one reports its own error.
        if (try? container.decode([JSONValue].self, forKey: .to)) != nil || !container.contains(.to) {
            to = try container.decodeIfPresent([EmailAddress].self, forKey: .to) ?? []
        } else {
            to = [try container.decode(EmailAddress.self, forKey: .to)]
        }
        recipients = try container.decodeIfPresent([CampaignRecipient].self, forKey: .recipients) ?? []
        template = try container.decodeIfPresent(String.self, forKey: .template)
        data = try container.decodeIfPresent([String: JSONValue].self, forKey: .data) ?? [:]
        username = try container.decodeIfPresent(String.self, forKey: .username)
        subject = try container.decodeIfPresent(String.self, forKey: .subject)
        replyTo = try container.decodeIfPresent(EmailAddress.self, forKey: .replyTo)
        delivered = try container.decodeIfPresent([String].self, forKey: .delivered) ?? []
        refused = try container.decodeIfPresent([RefusedRecipient].self, forKey: .refused) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(emailType, forKey: .emailType)
        if !to.isEmpty { try container.encode(to, forKey: .to) }
        if !recipients.isEmpty { try container.encode(recipients, forKey: .recipients) }
        try container.encodeIfPresent(template, forKey: .template)
        if !data.isEmpty { try container.encode(data, forKey: .data) }
        try container.encodeIfPresent(username, forKey: .username)
        try container.encodeIfPresent(subject, forKey: .subject)
        try container.encodeIfPresent(replyTo, forKey: .replyTo)
        if !delivered.isEmpty { try container.encode(delivered, forKey: .delivered) }
        if !refused.isEmpty { try container.encode(refused, forKey: .refused) }
    }
}

/// The kinds of email (seed 003's).
public enum EmailKind: String, Codable, Sendable, CaseIterable {
    case welcome
    case passwordReset = "password_reset"
    case notification
    /// One message per recipient, each with their own data, results recorded per recipient.
    case campaign
    /// Any template by name (`template`).
    case template
}

/// A campaign recipient: an address (a string) or `{email, name, data}`.
public struct CampaignRecipient: Codable, Sendable, Hashable {
    public var address: EmailAddress
    /// Values for this recipient's message, over the campaign's.
    public var data: [String: JSONValue]

    public init(_ address: EmailAddress, data: [String: JSONValue] = [:]) {
        self.address = address
        self.data = data
    }

    enum CodingKeys: String, CodingKey { case email, name, data }

    public init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            self.init(try EmailAddress(text))
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            try EmailAddress(try container.decode(String.self, forKey: .email), name: try container.decodeIfPresent(String.self, forKey: .name)),
            data: try container.decodeIfPresent([String: JSONValue].self, forKey: .data) ?? [:])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(address.address, forKey: .email)
        try container.encodeIfPresent(address.name, forKey: .name)
        if !data.isEmpty { try container.encode(data, forKey: .data) }
    }
}

/// A recipient refused, with the server's reply.
public struct RefusedRecipient: Codable, Sendable, Hashable {
    public var email: String
    public var reason: String
}

/// What an `email` job stores as its result.
public struct EmailReport: Codable, Sendable, Hashable {
    /// Every address reached, over all attempts.
    public var delivered: [String]
    /// Addresses refused for good.
    public var refused: [RefusedRecipient]
}

extension JobDefinition where Payload == EmailRequest {
    /// The `email` job type.
    public static var email: JobDefinition<EmailRequest> { JobDefinition("email") }
}

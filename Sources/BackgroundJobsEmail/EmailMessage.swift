/// One message: who sends it, who gets it, what it says.
public struct EmailMessage: Sendable, Hashable {
    public var from: EmailAddress
    /// The recipients named in the `To` header.
    public var to: [EmailAddress]
    public var cc: [EmailAddress]
    /// Recipients who get the message without being named in it.
    public var bcc: [EmailAddress]
    public var replyTo: EmailAddress?
    public var subject: String
    /// The plain-text body.
    public var text: String
    /// The HTML body; with one, the message is `multipart/alternative` with both.
    public var html: String?
    /// Extra headers (names and values must be single lines; values may be any Unicode).
    public var headers: [(String, String)]

    public init(
        from: EmailAddress, to: [EmailAddress], cc: [EmailAddress] = [], bcc: [EmailAddress] = [], replyTo: EmailAddress? = nil,
        subject: String, text: String, html: String? = nil, headers: [(String, String)] = []
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.headers = headers
    }

    /// Every envelope recipient, in order, each once.
    public var recipients: [EmailAddress] {
        var seen = Set<String>()
        return (to + cc + bcc).filter { seen.insert($0.address.lowercased()).inserted }
    }

    public static func == (lhs: EmailMessage, rhs: EmailMessage) -> Bool {
        lhs.from == rhs.from && lhs.to == rhs.to && lhs.cc == rhs.cc && lhs.bcc == rhs.bcc && lhs.replyTo == rhs.replyTo
            && lhs.subject == rhs.subject && lhs.text == rhs.text && lhs.html == rhs.html
            && lhs.headers.map { "\($0.0)\u{0}\($0.1)" } == rhs.headers.map { "\($0.0)\u{0}\($0.1)" }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(from)
        hasher.combine(to)
        hasher.combine(subject)
        hasher.combine(text)
    }
}

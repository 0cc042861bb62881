/// A mailbox: an address and, optionally, the name shown with it.
public struct EmailAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `local@domain`, ASCII only (SMTPUTF8 is not used).
    public let address: String
    /// The display name, any Unicode; encoded for the header when it needs to be.
    public let name: String?

    /// Checks `address`: one `@`, a local part of 1–64 and a domain of 1–253 printable ASCII characters,
    /// none of them a space, `<`, `>`, a comma or a line break (which would let a payload write headers).
    public init(_ address: String, name: String? = nil) throws(EmailError) {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...64).contains(parts[0].utf8.count), (1...253).contains(parts[1].utf8.count),
              address.utf8.allSatisfy({ $0 > 32 && $0 < 127 && !"<>,;\"()[]\\".utf8.contains($0) }),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !parts[1].contains("..")
        else {
            throw EmailError(.invalidAddress, "\(String(address.prefix(100)).debugDescription) is not an email address this mailer can send to")
        }
        if let name, name.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw EmailError(.invalidAddress, "the name of \(address) contains a line break")
        }
        self.address = address
        self.name = name.flatMap { $0.isEmpty ? nil : $0 }
    }

    public var description: String { address }

    /// An address from a string, or from `{"email", "name"}`. A bad one is a decoding error at its place
    /// in the payload, whose message leaves the value out (payload data stays out of job errors).
    public init(from decoder: any Decoder) throws {
        let address: String
        let name: String?
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            (address, name) = (text, nil)
        } else {
            enum Keys: String, CodingKey { case email, name }
            let container = try decoder.container(keyedBy: Keys.self)
            (address, name) = (try container.decode(String.self, forKey: .email), try container.decodeIfPresent(String.self, forKey: .name))
        }
        do {
            try self.init(address, name: name)
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "not an email address this mailer can send to"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        enum Keys: String, CodingKey { case email, name }
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(address, forKey: .email)
        try container.encodeIfPresent(name, forKey: .name)
    }
}

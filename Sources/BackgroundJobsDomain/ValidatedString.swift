/// A string that is checked when it is made, such as a job id or a queue name: decoding applies the
/// same check, so a value read from JSON or Redis is as trustworthy as one made in code.
public protocol ValidatedString: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// The text.
    var rawValue: String { get }
    /// Checks `text` and makes the value, or says what is wrong with it.
    init(_ text: String) throws(JobError)
}

extension ValidatedString {
    public init(from decoder: any Decoder) throws {
        try self.init(decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The validated name of a queue.
///
/// Names are 1 to 64 characters of letters, digits, `_`, `-` and `.`, so a name can never break the
/// Redis key it is part of (no `:`, braces or spaces).
public struct QueueName: ValidatedString, ExpressibleByStringLiteral {
    /// The name as text.
    public let rawValue: String

    /// The queue jobs go to when no queue is named.
    public static let `default`: QueueName = "default"

    /// Longest name accepted.
    public static let maximumLength = 64

    /// A queue name, or an ``JobError/Code/invalidQueueName`` error that says what is wrong with it.
    public init(_ name: String) throws(JobError) {
        guard !name.isEmpty else { throw JobError(.invalidQueueName, "the queue name is empty") }
        guard name.utf8.count <= Self.maximumLength else {
            throw JobError(.invalidQueueName, "the queue name is longer than \(Self.maximumLength) characters")
        }
        guard name.utf8.allSatisfy(Self.isAllowed) else {
            throw JobError(
                .invalidQueueName, "the queue name \"\(name)\" may only contain letters, digits, '_', '-' and '.'")
        }
        self.rawValue = name
    }

    /// A queue name from a literal in code; a literal that breaks the rules is a programming error.
    public init(stringLiteral name: String) {
        do { try self.init(name) } catch { preconditionFailure("\(error)") }
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }
}

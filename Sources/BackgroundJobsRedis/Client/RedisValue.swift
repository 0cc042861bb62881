/// A reply from Redis, copied out of hiredis into Swift memory.
public enum RedisValue: Sendable, Hashable {
    /// A status reply such as `OK` or `PONG`.
    case simpleString(String)
    /// A binary-safe bulk string.
    case bulkString([UInt8])
    /// An integer reply.
    case integer(Int)
    /// An array reply; nested arrays keep their shape.
    case array([RedisValue])
    /// The null bulk string or null array.
    case null
    /// An error reply inside a larger reply; a top-level error is thrown as ``RedisError`` instead.
    case error(String)
}

extension RedisValue {
    /// The reply as UTF-8 text, for status and bulk replies.
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        case .integer(let value): String(value)
        default: nil
        }
    }

    /// The reply's bytes, for bulk and status replies.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let text): Array(text.utf8)
        default: nil
        }
    }

    /// The reply as an integer, for integer replies and bulk strings that hold a decimal number.
    public var int: Int? {
        switch self {
        case .integer(let value): value
        case .bulkString(let bytes): Int(String(decoding: bytes, as: UTF8.self))
        case .simpleString(let text): Int(text)
        default: nil
        }
    }

    /// The elements of an array reply.
    public var array: [RedisValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether the reply is the null value.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension RedisValue: CustomStringConvertible {
    /// A short rendering for diagnostics; bulk strings show their length only, never their bytes.
    public var description: String {
        switch self {
        case .simpleString(let text): "+\(text)"
        case .bulkString(let bytes): "$\(bytes.count) bytes"
        case .integer(let value): ":\(value)"
        case .array(let elements): "*\(elements.count) [" + elements.map(\.description).joined(separator: ", ") + "]"
        case .null: "(nil)"
        case .error(let message): "-\(message)"
        }
    }
}

/// A value that can be sent as one argument of a Redis command.
public protocol RedisArgument: Sendable {
    /// Appends the argument's bytes, without any framing.
    func appendRedisBytes(to buffer: inout [UInt8])
}

extension String: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Substring: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}

extension Int: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: String(self).utf8) }
}

extension Double: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: String(self).utf8) }
}

/// One Redis command, already framed in the RESP protocol.
///
/// The caller's task does the encoding, so the connection thread only copies finished bytes.
public struct RedisCommand: Sendable {
    /// The command name, kept for error messages (arguments are never logged: they may hold payloads).
    public let name: String
    /// The RESP frame.
    let frame: [UInt8]

    /// A command from its name and arguments, e.g. `RedisCommand("SET", key, value)`.
    public init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments: arguments)
    }

    /// A command from its name and an argument list.
    public init(_ name: String, arguments: [any RedisArgument]) {
        self.name = name
        var frame: [UInt8] = []
        frame.reserveCapacity(16 + name.utf8.count + arguments.count * 24)
        Self.appendHeader(UInt8(ascii: "*"), arguments.count + 1, to: &frame)
        Self.appendBulk(name, to: &frame)
        for argument in arguments {
            Self.appendBulk(argument, to: &frame)
        }
        self.frame = frame
    }

    private static func appendEncodedBulk(_ argument: some RedisArgument, to frame: inout [UInt8]) {
        // The length prefix comes before the bytes, so encode the argument first, then frame it.
        var bytes: [UInt8] = []
        argument.appendRedisBytes(to: &bytes)
        appendHeader(UInt8(ascii: "$"), bytes.count, to: &frame)
        frame.append(contentsOf: bytes)
        frame.append(contentsOf: [13, 10])
    }

    private static func appendBulk(_ argument: any RedisArgument, to frame: inout [UInt8]) {
        switch argument {
        case let text as String:
            appendHeader(UInt8(ascii: "$"), text.utf8.count, to: &frame)
            frame.append(contentsOf: text.utf8)
            frame.append(contentsOf: [13, 10])
        case let bytes as [UInt8]:
            appendHeader(UInt8(ascii: "$"), bytes.count, to: &frame)
            frame.append(contentsOf: bytes)
            frame.append(contentsOf: [13, 10])
        default:
            appendEncodedBulk(argument, to: &frame)
        }
    }

    private static func appendHeader(_ marker: UInt8, _ count: Int, to frame: inout [UInt8]) {
        frame.append(marker)
        frame.append(contentsOf: String(count).utf8)
        frame.append(contentsOf: [13, 10])
    }
}

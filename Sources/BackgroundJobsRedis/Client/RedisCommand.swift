/// A value that can be sent as one argument of a Redis command.
public protocol RedisArgument: Sendable {
    /// Appends the argument's bytes, without any framing.
    func appendRedisBytes(to buffer: inout [UInt8])
    /// Appends the argument as a RESP bulk string (`$<length>\r\n<bytes>\r\n`).
    func appendRedisBulk(to frame: inout [UInt8])
}

extension RedisArgument {
    public func appendRedisBulk(to frame: inout [UInt8]) {
        // The length prefix comes before the bytes, so encode the argument first, then frame it.
        var bytes: [UInt8] = []
        appendRedisBytes(to: &bytes)
        RedisCommand.appendBulk(bytes, to: &frame)
    }
}

extension String: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
    public func appendRedisBulk(to frame: inout [UInt8]) { RedisCommand.appendBulk(utf8, to: &frame) }
}

extension Substring: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
    public func appendRedisBulk(to frame: inout [UInt8]) { RedisCommand.appendBulk(utf8, to: &frame) }
}

extension Array: RedisArgument where Element == UInt8 {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
    public func appendRedisBulk(to frame: inout [UInt8]) { RedisCommand.appendBulk(self, to: &frame) }
}

extension Int: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: String(self).utf8) }

    public func appendRedisBulk(to frame: inout [UInt8]) {
        guard self >= 0 else {
            RedisCommand.appendBulk(String(self).utf8, to: &frame)
            return
        }
        var digits = 1
        var rest = self / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        frame.append(UInt8(ascii: "$"))
        RedisCommand.appendDecimal(digits, to: &frame)
        frame.append(13)
        frame.append(10)
        RedisCommand.appendDecimal(self, to: &frame)
        frame.append(13)
        frame.append(10)
    }
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
        Self.appendBulk(name.utf8, to: &frame)
        for argument in arguments {
            argument.appendRedisBulk(to: &frame)
        }
        self.frame = frame
    }

    /// A command from its name, a few leading arguments and an already framed argument list.
    public init(_ name: String, _ leading: [any RedisArgument], _ arguments: RedisArguments) {
        self.name = name
        var frame: [UInt8] = []
        frame.reserveCapacity(32 + name.utf8.count + leading.count * 24 + arguments.framed.count)
        Self.appendHeader(UInt8(ascii: "*"), 1 + leading.count + arguments.count, to: &frame)
        Self.appendBulk(name.utf8, to: &frame)
        for argument in leading {
            argument.appendRedisBulk(to: &frame)
        }
        frame.append(contentsOf: arguments.framed)
        self.frame = frame
    }

    /// Appends `bytes` as a RESP bulk string.
    static func appendBulk(_ bytes: some Collection<UInt8>, to frame: inout [UInt8]) {
        appendHeader(UInt8(ascii: "$"), bytes.count, to: &frame)
        frame.append(contentsOf: bytes)
        frame.append(13)
        frame.append(10)
    }

    private static func appendHeader(_ marker: UInt8, _ count: Int, to frame: inout [UInt8]) {
        frame.append(marker)
        appendDecimal(count, to: &frame)
        frame.append(13)
        frame.append(10)
    }

    /// Writes a non-negative count in decimal without building a String.
    static func appendDecimal(_ value: Int, to frame: inout [UInt8]) {
        if value < 10 {
            frame.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            frame.append(contentsOf: buffer[(20 - count)...])
        }
    }
}

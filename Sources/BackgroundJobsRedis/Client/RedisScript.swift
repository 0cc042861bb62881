/// A Lua script that runs with `EVALSHA` and is loaded again when Redis answers `NOSCRIPT`.
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: String
    /// The SHA-1 digest Redis names the script by.
    public let sha1: String

    /// A script from its Lua source.
    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hexDigest(of: source.utf8)
    }
}

/// Something that sends commands to Redis and returns their replies.
public protocol RedisCommandSender: Sendable {
    /// Sends one command and returns its reply; an error reply is thrown as ``RedisError``.
    func send(_ command: RedisCommand) async throws(RedisError) -> RedisValue
}

extension RedisCommandSender {
    /// Sends one command given by its name and arguments.
    public func send(_ name: String, _ arguments: any RedisArgument...) async throws(RedisError) -> RedisValue {
        try await send(RedisCommand(name, arguments: arguments))
    }

    /// Runs `script` with `EVALSHA` right behind `prelude` on this connection (see
    /// ``RedisConnection/send(_:after:)``); on `NOSCRIPT` it is sent again with `EVAL`, alone.
    public func run(
        _ script: RedisScript, keys: [any RedisArgument] = [], arguments: [any RedisArgument] = [], after prelude: RedisCommand
    ) async throws(RedisError) -> RedisValue where Self == RedisConnection {
        let tail: [any RedisArgument] = [keys.count] + keys + arguments
        return try await evaluate(script, sending: { command throws(RedisError) in try await send(command, after: prelude) }) {
            RedisCommand($0, arguments: [$1] + tail)
        }
    }

    /// Runs a script with `EVALSHA`; when Redis does not have it cached (`NOSCRIPT`, after a restart or
    /// `SCRIPT FLUSH`), sends it with `EVAL`, which runs it and caches it again.
    public func run(
        _ script: RedisScript, keys: [any RedisArgument] = [], arguments: [any RedisArgument] = []
    ) async throws(RedisError) -> RedisValue {
        let tail: [any RedisArgument] = [keys.count] + keys + arguments
        return try await evaluate(script, sending: { command throws(RedisError) in try await send(command) }) {
            RedisCommand($0, arguments: [$1] + tail)
        }
    }

    /// Runs a script whose arguments were framed beforehand (see ``RedisArguments``).
    public func run(_ script: RedisScript, keys: [any RedisArgument], arguments: RedisArguments) async throws(RedisError) -> RedisValue {
        let leading: [any RedisArgument] = [keys.count] + keys
        return try await evaluate(script, sending: { command throws(RedisError) in try await send(command) }) {
            RedisCommand($0, [$1] + leading, arguments)
        }
    }

    /// Sends `command("EVALSHA", sha1)` through `first`, and `command("EVAL", source)` alone on
    /// `NOSCRIPT`. Resending is safe: a `NOSCRIPT` reply means the script did not run.
    private func evaluate(
        _ script: RedisScript, sending first: (RedisCommand) async throws(RedisError) -> RedisValue,
        command: (_ name: String, _ script: any RedisArgument) -> RedisCommand
    ) async throws(RedisError) -> RedisValue {
        do {
            return try await first(command("EVALSHA", script.sha1))
        } catch where error.serverErrorPrefix == "NOSCRIPT" {
            return try await send(command("EVAL", script.source))
        }
    }
}

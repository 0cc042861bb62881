/// Command arguments framed as they are added, for commands with many arguments (the job scripts):
/// no array of existentials, and each argument's bytes are written once.
public struct RedisArguments: Sendable {
    /// How many arguments have been added.
    public private(set) var count = 0
    /// Their RESP bulk strings, back to back.
    private(set) var framed: [UInt8] = []

    /// An empty list with room for about `capacity` bytes.
    public init(capacity: Int = 0) {
        framed.reserveCapacity(capacity)
    }

    /// Adds one argument.
    public mutating func append(_ argument: some RedisArgument) {
        argument.appendRedisBulk(to: &framed)
        count += 1
    }

    /// Adds arguments of mixed types.
    public mutating func append(contentsOf arguments: [any RedisArgument]) {
        for argument in arguments { append(argument) }
    }
}

/// The id of one worker process: the owner of a processing list and a heartbeat.
public struct WorkerID: ValidatedString {
    /// The id as text.
    public let rawValue: String

    /// Longest id accepted.
    public static let maximumLength = 128

    /// A worker id of 1 to 128 letters, digits, `_`, `-`, `.` and `@` (so `host-pid-random` fits).
    public init(_ text: String) throws(JobError) {
        guard !text.isEmpty, text.utf8.count <= Self.maximumLength,
            text.utf8.allSatisfy({ byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."),
                    UInt8(ascii: "@"):
                    true
                default:
                    false
                }
            })
        else {
            throw JobError(.invalidOptions, "a worker id must be 1 to \(Self.maximumLength) letters, digits, '_', '-', '.' or '@'")
        }
        self.rawValue = text
    }
}

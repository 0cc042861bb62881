/// The validated name of a job type, such as `email` or `file_processing`, that selects its handler.
public struct JobName: ValidatedString, ExpressibleByStringLiteral {
    /// The name as text.
    public let rawValue: String

    /// Longest name accepted.
    public static let maximumLength = 128

    /// A job name, or an ``JobError/Code/invalidJobName`` error that says what is wrong with it.
    ///
    /// Any printable text without white space is accepted, so names like `Billing::Invoice` or
    /// `reports.daily` work.
    public init(_ name: String) throws(JobError) {
        guard !name.isEmpty else { throw JobError(.invalidJobName, "the job name is empty") }
        guard name.utf8.count <= Self.maximumLength else {
            throw JobError(.invalidJobName, "the job name is longer than \(Self.maximumLength) bytes")
        }
        guard name.unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw JobError(.invalidJobName, "the job name must not contain spaces or control characters")
        }
        self.rawValue = name
    }

    /// A job name from a literal in code; a literal that breaks the rules is a programming error.
    public init(stringLiteral name: String) {
        do { try self.init(name) } catch { preconditionFailure("\(error)") }
    }
}

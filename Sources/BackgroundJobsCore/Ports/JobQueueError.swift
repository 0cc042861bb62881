/// A failure of a ``JobQueue`` operation that the caller can act on.
public struct JobQueueError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case queueFull, unavailable, corruptJob, invalidCursor }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The queue holds its `max_jobs` unfinished jobs; nothing was written.
        public static let queueFull = Code(.queueFull)
        /// The store could not be reached or did not answer; see ``JobQueueError/outcomeUnknown``.
        public static let unavailable = Code(.unavailable)
        /// A stored job could not be read back (missing or malformed fields).
        public static let corruptJob = Code(.corruptJob)
        /// A listing cursor that no listing of this queue and status made.
        public static let invalidCursor = Code(.invalidCursor)

        public var description: String { "\(base)" }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence that says what failed; it never contains payload data.
    public var message: String
    /// Whether the operation may have taken effect although it failed.
    public var outcomeUnknown: Bool
    /// The error of the store, if any.
    public var underlying: (any Error)?

    /// An error with its code and message.
    public init(_ code: Code, _ message: String, outcomeUnknown: Bool = false, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.outcomeUnknown = outcomeUnknown
        self.underlying = underlying
    }

    public var description: String { message }
}

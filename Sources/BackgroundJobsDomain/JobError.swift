/// A rule of the job domain that a value broke: what a user gets back for bad input.
public struct JobError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of rule was broken.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case invalidJobName, invalidQueueName, invalidOptions, payloadTooLarge, priorityNotAllowed
            case illegalTransition, invalidJobID
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The job name is empty, too long or has characters that are not allowed.
        public static let invalidJobName = Code(.invalidJobName)
        /// The queue name is empty, too long or has characters that are not allowed.
        public static let invalidQueueName = Code(.invalidQueueName)
        /// An option is out of range, or two options contradict each other.
        public static let invalidOptions = Code(.invalidOptions)
        /// The payload is larger than the configured limit.
        public static let payloadTooLarge = Code(.payloadTooLarge)
        /// The queue does not accept jobs of that priority.
        public static let priorityNotAllowed = Code(.priorityNotAllowed)
        /// A status change the job state machine does not allow.
        public static let illegalTransition = Code(.illegalTransition)
        /// A string that is not a job id.
        public static let invalidJobID = Code(.invalidJobID)

        public var description: String { "\(base)" }
    }

    /// What kind of rule was broken.
    public var code: Code
    /// A sentence naming the value and the rule; it never contains payload data.
    public var message: String

    /// An error with its code and message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

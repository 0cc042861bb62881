/// How urgent a job is; a worker takes the most urgent ready job of a queue first.
public enum JobPriority: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case low
    case normal
    case high
    case critical

    /// Every priority, most urgent first: the order a worker looks at a queue's lists.
    public static let mostUrgentFirst: [JobPriority] = [.critical, .high, .normal, .low]

    /// A number that grows with urgency.
    public var rank: Int {
        switch self {
        case .low: 0
        case .normal: 1
        case .high: 2
        case .critical: 3
        }
    }

    public static func < (lhs: JobPriority, rhs: JobPriority) -> Bool { lhs.rank < rhs.rank }
}

public import BackgroundJobsDomain

/// Which queues a worker pool serves, and in what order it looks into them.
public struct QueueSelection: Sendable, Hashable {
    private enum Order: Sendable, Hashable {
        case strict
        case weighted([Int])
    }

    /// The queues served, each once.
    public let queues: [QueueName]
    private let order: Order

    /// The queues in a fixed order: a queue is served only when the ones before it have no ready job.
    public static func strict(_ queues: [QueueName]) throws(JobError) -> QueueSelection {
        try QueueSelection(queues: queues, order: .strict)
    }

    /// The queues in an order drawn at each fetch, a queue coming first with a chance in proportion to its
    /// weight, as Sidekiq's weighted queues do: no queue starves, and busier queues get more turns.
    public static func weighted(_ weights: [(queue: QueueName, weight: Int)]) throws(JobError) -> QueueSelection {
        guard weights.allSatisfy({ $0.weight > 0 }) else {
            throw JobError(.invalidOptions, "every queue weight must be a positive whole number")
        }
        return try QueueSelection(queues: weights.map(\.queue), order: .weighted(weights.map(\.weight)))
    }

    private init(queues: [QueueName], order: Order) throws(JobError) {
        guard !queues.isEmpty else { throw JobError(.invalidOptions, "a worker pool must serve at least one queue") }
        guard Set(queues).count == queues.count else { throw JobError(.invalidOptions, "a queue is listed twice") }
        self.queues = queues
        self.order = order
    }

    /// The order to look into the queues for the next fetch.
    public func nextOrder(using generator: inout some RandomNumberGenerator) -> [QueueName] {
        guard case .weighted(let weights) = order else { return queues }
        var remaining = Array(zip(queues, weights))
        var ordered: [QueueName] = []
        ordered.reserveCapacity(remaining.count)
        while !remaining.isEmpty {
            var draw = Int.random(in: 0..<remaining.reduce(0) { $0 + $1.1 }, using: &generator)
            let index = remaining.firstIndex { entry in
                draw -= entry.1
                return draw < 0
            }!
            ordered.append(remaining.remove(at: index).0)
        }
        return ordered
    }
}

import Synchronization

/// What the connections of one client know together about Redis being away: since when no connect
/// attempt has worked, and whether a command has already waited out its whole timeout for a connection.
/// From then on new commands wait only for the next connect attempt. It is shared so that every
/// connection, also one that was idle, fails fast as soon as one of them has seen the outage outlast a
/// timeout, and waits again as soon as one reconnects.
final class RedisOutage: Sendable {
    private struct State {
        var since: ContinuousClock.Instant?
        var outlastedTimeout = false
    }

    private let state = Mutex(State())

    /// When the first connect attempt failed since the last one that worked; nil while Redis answers.
    var since: ContinuousClock.Instant? { state.withLock { $0.since } }

    /// Whether a command has waited out its timeout since the last successful connect.
    var outlastedTimeout: Bool { state.withLock { $0.outlastedTimeout } }

    func connectFailed(at instant: ContinuousClock.Instant) {
        state.withLock { if $0.since == nil { $0.since = instant } }
    }

    func commandTimedOutUnsent() { state.withLock { $0.outlastedTimeout = true } }

    func connected() { state.withLock { $0 = State() } }
}

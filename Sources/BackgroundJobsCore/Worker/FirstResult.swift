import Synchronization

/// A value that several racers offer and one waiter receives: the first offer wins, later ones are
/// ignored. It lets a worker stop waiting for a handler that does not end (a timeout, a shutdown) without
/// waiting for that handler's task.
final class FirstResult<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiter: CheckedContinuation<Value, Never>?
    }

    private let state = Mutex(State())

    /// Offers `value`; returns whether it was the first.
    @discardableResult
    func offer(_ value: Value) -> Bool {
        let waiter = state.withLock { state -> CheckedContinuation<Value, Never>?? in
            guard state.value == nil else { return .none }
            state.value = value
            defer { state.waiter = nil }
            return .some(state.waiter)
        }
        guard let waiter else { return false }
        waiter?.resume(returning: value)
        return true
    }

    /// The first value offered, once there is one. Only one task may wait.
    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Value? in
                    if let value = state.value { return value }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}

import ServiceLifecycle

/// Runs `body` now and then every `interval` until the task is cancelled or the service group shuts down
/// gracefully: the loop of the services that only repeat one step (sweeping, collecting metrics).
public func repeatUntilShutdown(every interval: Duration, _ body: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            await body()
            // A shutdown cancels the sleep; the loop then ends without an error.
            try? await Task.sleep(for: interval)
        }
    }
}

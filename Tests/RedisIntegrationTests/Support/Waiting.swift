import Testing

/// Polls `condition` until it holds, failing the test after `timeout`: tests wait for outcomes, never
/// for a fixed time.
func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(10),
    pollEvery interval: Duration = .milliseconds(10),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: interval)
    }
    Issue.record("timed out after \(timeout) waiting until \(what)", sourceLocation: sourceLocation)
    throw TestSetupError("timed out waiting until \(what)")
}

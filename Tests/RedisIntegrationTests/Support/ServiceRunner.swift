import Logging
import ServiceLifecycle

/// Runs `service` in a `ServiceGroup` while `body` runs, then shuts the group down gracefully and waits
/// for it, also when `body` throws; a service that fails fails the test.
func withRunning<Result: Sendable>(
    _ services: [any Service], logger: Logger, _ body: () async throws -> Result
) async throws -> Result {
    let group = ServiceGroup(
        configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

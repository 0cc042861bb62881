import BackgroundJobs
import Foundation
import Hummingbird

/// `/health/jobs`, `/health/queues`, `/health/workers` (JSON; 503 when Redis does not answer or, for
/// workers, none is alive) and `/metrics` for Prometheus.
struct HealthAPI {
    let system: JobSystem

    func register(on router: Router<BasicRequestContext>) {
        router.get("/health/jobs") { _, _ in await jobs() }
        router.get("/health/queues") { _, _ in await queues() }
        router.get("/health/workers") { _, _ in await workers() }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: system.metrics?.exposition() ?? "")))
        }
    }

    private func jobs() async -> Response {
        do {
            let queues = try await system.service.queues()
            return answer(true, ["redis": "up", "queues": queues.count, "pool": system.pool.map { snapshot($0.snapshot) } ?? NSNull()])
        } catch {
            return answer(false, ["redis": "down", "error": "\(error)"])
        }
    }

    private func queues() async -> Response {
        do {
            var counts: [[String: Any]] = []
            for name in try await system.service.queues() { counts.append(JobJSON.counts(try await system.service.counts(of: name))) }
            return answer(true, ["queues": counts])
        } catch {
            return answer(false, ["redis": "down", "error": "\(error)"])
        }
    }

    private func workers() async -> Response {
        do {
            let workers = try await system.service.workers()
            return answer(!workers.isEmpty, ["workers": workers.map(JobJSON.worker), "alive": workers.count])
        } catch {
            return answer(false, ["redis": "down", "error": "\(error)"])
        }
    }

    private func snapshot(_ snapshot: WorkerPoolSnapshot) -> [String: Any] {
        ["concurrency": snapshot.concurrency, "busy": snapshot.busy, "processed": snapshot.processed, "failed": snapshot.failed]
    }

    private func answer(_ healthy: Bool, _ details: [String: Any]) -> Response {
        var object = details
        object["status"] = healthy ? "ok" : "unavailable"
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: healthy ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Requires `Authorization: Bearer <token>` on every route but `/health/*` and `/metrics`.
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path.hasPrefix("/health/") || path == "/metrics" { return try await next(request, context) }
        guard Self.matches(request.headers[.authorization], "Bearer \(token)") else {
            throw HTTPError(.unauthorized, message: "this server needs Authorization: Bearer <token> (JOBS_API_TOKEN)")
        }
        return try await next(request, context)
    }

    /// Compares in constant time: every byte of the presented value is looked at whatever the first
    /// difference, so the time an answer takes tells nothing about how much of the token was right. (Only
    /// the presented value's length shows, which the client knows anyway.)
    static func matches(_ presented: String?, _ expected: String) -> Bool {
        let given = Array((presented ?? "").utf8)
        let wanted = Array(expected.utf8)
        var difference = UInt8(given.count == wanted.count ? 0 : 1)
        for (index, byte) in given.enumerated() {
            difference |= byte ^ (wanted.isEmpty ? 0 : wanted[index % wanted.count])
        }
        return difference == 0 && !given.isEmpty
    }
}

/// Turns the library's errors that reach a route into HTTP answers with their message: a full queue is
/// 429, a store that does not answer 503, a bad cursor 400.
struct QueueErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as JobQueueError {
            switch error.code {
            case .queueFull: throw HTTPError(.tooManyRequests, message: error.message)
            case .invalidCursor: throw HTTPError(.badRequest, message: error.message)
            case .unavailable: throw HTTPError(.serviceUnavailable, message: "the job store does not answer: \(error.message)")
            default: throw HTTPError(.internalServerError, message: error.message)
            }
        } catch let error as JobError {
            throw HTTPError(error.code == .payloadTooLarge ? .contentTooLarge : .badRequest, message: error.message)
        }
    }
}

/// The router of the demo server: the jobs API, health and metrics.
public enum JobsServer {
    /// A router over `system`; with a `token`, every route but health and metrics requires it.
    public static func router(system: JobSystem, token: String? = nil) -> Router<BasicRequestContext> {
        let router = Router()
        if let token, !token.isEmpty { router.add(middleware: BearerTokenMiddleware(token: token)) }
        router.add(middleware: QueueErrorMiddleware())
        let limit = JobPayload.defaultSizeLimit + 64 * 1024
        JobsAPI(system: system, bodyLimit: limit).register(on: router)
        HealthAPI(system: system).register(on: router)
        SchedulesAPI(system: system).register(on: router)
        return router
    }
}

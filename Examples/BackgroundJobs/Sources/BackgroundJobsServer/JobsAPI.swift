import BackgroundJobs
import Foundation
import Hummingbird

/// The HTTP API over a job system: submit and inspect jobs, manage queues, see workers.
struct JobsAPI {
    let system: JobSystem
    /// The largest request body accepted; the job payload limit plus room for the other fields.
    let bodyLimit: Int

    var service: JobService { system.service }

    func register(on router: Router<BasicRequestContext>) {
        router.post("/jobs") { request, _ in try await submit(request) }
        router.post("/jobs/batch") { request, _ in try await submitBatch(request) }
        router.get("/jobs") { request, _ in try await list(request) }
        router.get("/jobs/:id") { _, context in try await job(context) }
        router.delete("/jobs/:id") { _, context in try await cancel(context) }
        router.post("/jobs/:id/retry") { _, context in try await retry(context) }
        router.get("/queues") { _, _ in try await queues() }
        router.post("/queues/:name/pause") { _, context in try await setPaused(context, true) }
        router.post("/queues/:name/resume") { _, context in try await setPaused(context, false) }
        router.get("/workers") { _, _ in try await Self.json(["workers": try await service.workers().map(JobJSON.worker)]) }
    }

    // MARK: Jobs

    private func submit(_ request: Request) async throws -> Response {
        let submission = try SubmissionRequest(json: try await body(request))
        switch try await store(submission) {
        case .submitted(let id):
            let job = try await service.job(id)
            return try Self.json(job.map(JobJSON.job) ?? ["id": id.rawValue], status: .created)
        case .duplicate(let holder):
            return try Self.json(["error": ["message": "a job with this unique key is unfinished", "duplicate_of": holder.rawValue]], status: .conflict)
        }
    }

    private func submitBatch(_ request: Request) async throws -> Response {
        guard let object = try await body(request) as? [String: Any], let items = object["jobs"] as? [Any], !items.isEmpty else {
            throw HTTPError(.badRequest, message: "the body must be {\"jobs\": [ ... ]} with at least one job")
        }
        guard items.count <= 1000 else { throw HTTPError(.badRequest, message: "a batch holds at most 1000 jobs") }
        // Every job is checked before any is stored, so a bad one leaves the batch unstored; the service
        // stores them in order, so of two with one unique key the second is the duplicate.
        let submissions = try items.enumerated().map { index, item in try SubmissionRequest(json: item, at: "jobs[\(index)]") }
        let outcomes: [Result<JobService.Submission, any Error>]
        do {
            outcomes = try await service.submit(json: submissions.map { ($0.name, $0.payload, $0.options) })
        } catch let error as JobError {
            throw Self.refusal(error)
        }
        var results: [[String: Any]] = []
        for outcome in outcomes {
            switch outcome {
            case .success(.submitted(let id)): results.append(["id": id.rawValue, "status": "submitted"])
            case .success(.duplicate(let holder)): results.append(["status": "duplicate", "duplicate_of": holder.rawValue])
            case .failure(let error as JobQueueError) where error.code == .queueFull:
                results.append(["status": "refused", "error": error.message])
            case .failure(let error): throw error
            }
        }
        return try Self.json(["results": results], status: .created)
    }

    private func store(_ submission: SubmissionRequest) async throws -> JobService.Submission {
        do {
            return try await service.submit(name: submission.name, json: submission.payload, options: submission.options)
        } catch let error as JobError {
            throw Self.refusal(error)
        }
    }

    /// The answer to a submission the service refused: 413 for a payload over the limit, else 400.
    private static func refusal(_ error: JobError) -> HTTPError {
        HTTPError(error.code == .payloadTooLarge ? .contentTooLarge : .badRequest, message: error.message)
    }

    private func list(_ request: Request) async throws -> Response {
        let parameters = request.uri.queryParameters
        let statusText = parameters.get("status") ?? "pending"
        guard let status = JobStatus(rawValue: statusText) else {
            throw HTTPError(.badRequest, message: "status must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let queue: QueueName
        do {
            queue = try QueueName(parameters.get("queue") ?? "default")
        } catch {
            throw HTTPError(.badRequest, message: error.message)
        }
        var limit = 50
        if let text = parameters.get("limit") {
            guard let value = Int(text), (1...1000).contains(value) else { throw HTTPError(.badRequest, message: "limit must be from 1 to 1000") }
            limit = value
        }
        let page = try await service.list(queue, status: status, cursor: parameters.get("cursor"), limit: limit)
        var object: [String: Any] = ["jobs": page.jobs.map(JobJSON.job)]
        object["next_cursor"] = page.next ?? NSNull()
        return try Self.json(object)
    }

    private func job(_ context: BasicRequestContext) async throws -> Response {
        let id = try Self.jobID(context)
        guard let job = try await service.job(id) else { throw HTTPError(.notFound, message: "no job \(id) (never submitted, or expired)") }
        return try Self.json(JobJSON.job(job))
    }

    private func cancel(_ context: BasicRequestContext) async throws -> Response {
        let id = try Self.jobID(context)
        switch try await service.cancel(id) {
        case .cancelled: return try Self.json(["id": id.rawValue, "status": "cancelled"])
        case .cancelling: return try Self.json(["id": id.rawValue, "status": "cancelling"], status: .accepted)
        case .notFound: throw HTTPError(.notFound, message: "no job \(id)")
        case .notWaiting(let status): throw HTTPError(.conflict, message: "job \(id) is \(status.rawValue) and cannot be cancelled")
        }
    }

    private func retry(_ context: BasicRequestContext) async throws -> Response {
        let id = try Self.jobID(context)
        switch try await service.retry(id) {
        case .requeued: return try Self.json(["id": id.rawValue, "status": "pending"])
        case .notFound: throw HTTPError(.notFound, message: "no job \(id)")
        case .notDead(let status): throw HTTPError(.conflict, message: "job \(id) is \(status.rawValue); only dead jobs are retried")
        }
    }

    // MARK: Queues

    private func queues() async throws -> Response {
        var counts: [[String: Any]] = []
        for name in try await service.queues() { counts.append(JobJSON.counts(try await service.counts(of: name))) }
        return try Self.json(["queues": counts])
    }

    private func setPaused(_ context: BasicRequestContext, _ paused: Bool) async throws -> Response {
        let text = try context.parameters.require("name")
        let name: QueueName
        do {
            name = try QueueName(text)
        } catch {
            throw HTTPError(.badRequest, message: error.message)
        }
        if paused { try await service.pause(name) } else { try await service.resume(name) }
        return try Self.json(["queue": name.rawValue, "paused": paused])
    }

    // MARK: Helpers

    private func body(_ request: Request) async throws -> Any {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: bodyLimit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // Hummingbird answers this one with a bare 413; every refusal carries a message.
            throw HTTPError(.contentTooLarge, message: "the body is larger than the limit of \(bodyLimit) bytes")
        }
        do {
            return try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView), options: [.fragmentsAllowed])
        } catch {
            throw HTTPError(.badRequest, message: "the body is not valid JSON")
        }
    }

    static func jobID(_ context: BasicRequestContext) throws -> JobID {
        let text = try context.parameters.require("id")
        do {
            return try JobID(text)
        } catch {
            throw HTTPError(.badRequest, message: "\(text.debugDescription) is not a job id")
        }
    }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

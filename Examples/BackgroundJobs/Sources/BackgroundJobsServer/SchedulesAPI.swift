import BackgroundJobs
import Foundation
import Hummingbird

/// Recurring jobs over HTTP (`/schedules`), and job events as server-sent events (`/events`).
struct SchedulesAPI {
    let system: JobSystem

    var service: JobService { system.service }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/schedules") { _, _ in try await list() }
        router.post("/schedules") { request, _ in try await add(request) }
        router.delete("/schedules/:id") { _, context in try await remove(context) }
        router.post("/schedules/:id/pause") { _, context in try await setPaused(context, true) }
        router.post("/schedules/:id/resume") { _, context in try await setPaused(context, false) }
        router.get("/events") { request, _ in events(request) }
    }

    private func list() async throws -> Response {
        let states = try await service.recurringJobs().map { state -> [String: Any] in
            var object: [String: Any] = [
                "id": state.job.id, "schedule": state.job.schedule.expression, "time_zone": state.job.schedule.timeZone.identifier,
                "type": state.job.name.rawValue, "queue": state.job.options.queue.rawValue, "priority": state.job.options.priority.rawValue,
                "payload": JobJSON.json(state.job.payload) ?? NSNull(), "paused": state.paused, "missed_runs": state.job.missedRuns.rawValue,
            ]
            if let next = state.nextFiring { object["next_firing"] = JobJSON.timestamp(next) }
            if let last = state.lastFiring { object["last_firing"] = JobJSON.timestamp(last) }
            return object
        }
        return try JobsAPI.json(["schedules": states])
    }

    /// `{id, schedule, time_zone?, type, payload, queue?, priority?, max_retries?, missed_runs?}`.
    private func add(_ request: Request) async throws -> Response {
        let buffer = try await request.body.collect(upTo: JobPayload.defaultSizeLimit + 64 * 1024)
        guard let fields = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
            throw HTTPError(.badRequest, message: "the body must be a JSON object")
        }
        let known: Set<String> = ["id", "schedule", "time_zone", "type", "payload", "queue", "priority", "max_retries", "missed_runs"]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw HTTPError(.badRequest, message: "the body has the unknown field \(unknown.debugDescription) (known: \(known.sorted().joined(separator: ", ")))")
        }
        guard let id = fields["id"] as? String else { throw HTTPError(.badRequest, message: "the body needs \"id\", a string") }
        guard let expression = fields["schedule"] as? String else {
            throw HTTPError(.badRequest, message: "the body needs \"schedule\": a cron expression, @daily or @every 30s")
        }
        let zone = fields["time_zone"] as? String ?? "UTC"
        // The job part is checked as POST /jobs checks it.
        var jobFields = fields.filter { ["type", "payload", "queue", "priority", "max_retries"].contains($0.key) }
        if jobFields["payload"] == nil { jobFields["payload"] = [String: Any]() }
        let submission = try SubmissionRequest(json: jobFields)
        var missedRuns = RecurringJob.MissedRuns.skip
        if let text = fields["missed_runs"] {
            guard let value = (text as? String).flatMap(RecurringJob.MissedRuns.init(rawValue:)) else {
                throw HTTPError(.badRequest, message: "\"missed_runs\" must be skip or runOnce")
            }
            missedRuns = value
        }
        do {
            let schedule = try Schedule(expression, timeZone: zone)
            try await service.addRecurring(
                try RecurringJob(
                    id: id, schedule: schedule, name: submission.name, payload: submission.payload, options: submission.options,
                    missedRuns: missedRuns))
        } catch let error as JobError {
            throw HTTPError(.badRequest, message: error.message)
        }
        return try JobsAPI.json(["id": id, "schedule": expression, "time_zone": zone], status: .created)
    }

    private func remove(_ context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard try await service.removeRecurring(id) else { throw HTTPError(.notFound, message: "no recurring job \(id.debugDescription)") }
        return try JobsAPI.json(["id": id, "removed": true])
    }

    private func setPaused(_ context: BasicRequestContext, _ paused: Bool) async throws -> Response {
        let id = try context.parameters.require("id")
        let found = paused ? try await service.pauseRecurring(id) : try await service.resumeRecurring(id)
        guard found else { throw HTTPError(.notFound, message: "no recurring job \(id.debugDescription)") }
        return try JobsAPI.json(["id": id, "paused": paused])
    }

    /// Every status change and progress report as server-sent events, from now on (or after the
    /// `Last-Event-ID` a reconnecting client sends). `?limit=N` ends the stream after N events.
    private func events(_ request: Request) -> Response {
        let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) }
        let after = request.headers[.init("Last-Event-ID")!]
        let events = service.events(after: after)
        let body = ResponseBody { writer in
            var sent = 0
            for try await event in events {
                var object: [String: Any] = ["job": event.job.rawValue, "at": JobJSON.timestamp(event.at)]
                let kind: String
                switch event.change {
                case .status(let from, let to):
                    kind = "status"
                    object["from"] = from?.rawValue ?? NSNull()
                    object["to"] = to.rawValue
                case .progress(let percent):
                    kind = "progress"
                    object["progress"] = percent
                }
                let data = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
                try await writer.write(ByteBuffer(string: "id: \(event.cursor)\nevent: \(kind)\ndata: \(data)\n\n"))
                sent += 1
                if let limit, sent >= limit { break }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

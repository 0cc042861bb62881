import BackgroundJobs
import Foundation

/// How jobs, counts and workers look in the API's JSON.
enum JobJSON {
    static func job(_ job: Job) -> [String: Any] {
        var object: [String: Any] = [
            "id": job.id.rawValue, "type": job.name.rawValue, "queue": job.queue.rawValue, "priority": job.priority.rawValue,
            "status": job.status.rawValue, "attempts": job.attempts, "max_retries": job.maxRetries,
            "created_at": timestamp(job.createdAt), "payload": json(job.payload) ?? NSNull(),
        ]
        if let date = job.scheduledAt { object["scheduled_at"] = timestamp(date) }
        if let date = job.startedAt { object["started_at"] = timestamp(date) }
        if let date = job.finishedAt { object["finished_at"] = timestamp(date) }
        if let error = job.lastError { object["last_error"] = error }
        if let result = job.result { object["result"] = json(result) ?? String(decoding: result, as: UTF8.self) }
        if let progress = job.progress { object["progress"] = progress }
        if let key = job.uniqueKey { object["unique_key"] = key }
        if let timeout = job.timeout { object["timeout_ms"] = Int(timeout.timeInterval * 1000) }
        return object
    }

    static func counts(_ counts: QueueCounts) -> [String: Any] {
        [
            "queue": counts.queue.rawValue, "paused": counts.paused,
            "pending": Dictionary(uniqueKeysWithValues: counts.pending.map { ($0.key.rawValue, $0.value) }),
            "scheduled": counts.scheduled, "retrying": counts.retrying, "processing": counts.processing,
            "completed": counts.completed, "dead": counts.dead, "cancelled": counts.cancelled,
        ]
    }

    static func worker(_ worker: WorkerInfo) -> [String: Any] {
        [
            "id": worker.id.rawValue, "host": worker.host, "pid": worker.pid, "queues": worker.queues.map(\.rawValue),
            "concurrency": worker.concurrency, "busy": worker.busy, "processed": worker.processed, "failed": worker.failed,
            "started_at": timestamp(worker.startedAt),
        ]
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    static func json(_ bytes: [UInt8]) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }
}

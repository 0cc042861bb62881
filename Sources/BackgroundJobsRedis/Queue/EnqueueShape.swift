import BackgroundJobsCore
import BackgroundJobsDomain

/// The values an enqueue call sends once for a run of jobs instead of once per job: the jobs of a batch
/// nearly always share them, and each argument costs the script a Lua string.
struct EnqueueShape: Equatable {
    let name: String
    let queue: String
    let priority: String
    let maxRetries: Int
    let maxJobs: Int
    let uniqueMilliseconds: Int
    /// Whether the jobs also carry a run-at time, a unique key or other optional fields. A new job without
    /// them, the usual case, is three arguments: id, creation time, payload.
    let extended: Bool

    init(_ job: Job, _ limits: QueueLimits) {
        name = job.name.rawValue
        queue = job.queue.rawValue
        priority = job.priority.rawValue
        maxRetries = job.maxRetries
        maxJobs = limits.maxJobs ?? 0
        uniqueMilliseconds = job.uniqueKey == nil ? 0 : max(1, Int(limits.uniqueFor.timeInterval * 1000))
        extended = RedisJobCodec.optionalFieldCount(of: job) > 0
    }

    /// Appends the values in the order the enqueue script reads them.
    func append(to arguments: inout RedisArguments) {
        arguments.append(name)
        arguments.append(queue)
        arguments.append(priority)
        arguments.append(maxRetries)
        arguments.append(maxJobs)
        arguments.append(uniqueMilliseconds)
        arguments.append(extended ? 1 : 0)
    }
}

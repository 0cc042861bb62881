package import BackgroundJobsDomain
package import Yams
import BackgroundJobsCore
import Foundation

/// Reading the configuration from YAML in seed 003's shape:
///
/// ```yaml
/// jobs:
///   enabled: true
///   redis: { url: "redis://…" }            # or addr: "localhost:6379", password: "", db: 0; key_prefix: jobs
///   worker_pool: { worker_count: 5, max_retries: 3, retry_delay: "5s", shutdown_timeout: "25s", queues: [default],
///                  handler_placement: global_executor,    # or queue_threads
///                  stall_limit: 1, heartbeat_interval: "5s", heartbeat_ttl: "15s", reaper_interval: "5s" }
///   scheduler: { enabled: true, cleanup_interval: "1m" }
///   metrics: { enabled: true, collection_interval: "30s", namespace: background_jobs }
/// queues:
///   default: { priority_levels: ["low", "normal", "high", "critical"], max_jobs: 1000 }
/// ```
///
/// Every key is checked: an unknown key, a value of the wrong type or a bad duration stops with a message
/// that names the key and its line.
extension JobSystemConfiguration {
    /// Reads `yaml`; `source` (the file's path) goes into error messages.
    public init(yaml: String, source: String = "the configuration") throws(ConfigurationError) {
        self.init()
        var reader = YAMLReader(source: source)
        guard let root = try reader.root(of: yaml) else { return }
        // `handlers` belongs to the built-in handlers (BackgroundJobsHandlers), which read it themselves.
        let top = try reader.mapping(root, "the top level", allowed: ["jobs", "queues", "schedules", "handlers"])
        if let jobs = top["jobs"] { try read(jobs: jobs, with: &reader) }
        if let queues = top["queues"] { self.queues = try reader.queues(queues) }
        if let schedules = top["schedules"] { self.schedules = try reader.schedules(schedules) }
    }

    private mutating func read(jobs node: Node, with reader: inout YAMLReader) throws(ConfigurationError) {
        let jobs = try reader.mapping(node, "jobs", allowed: ["enabled", "redis", "worker_pool", "scheduler", "metrics"])
        if let value = jobs["enabled"] { enabled = try reader.bool(value, "jobs.enabled") }
        if let node = jobs["redis"] {
            let section = try reader.mapping(node, "jobs.redis", allowed: ["url", "addr", "password", "db", "key_prefix"])
            if let value = section["url"] { redis.url = try reader.string(value, "jobs.redis.url") }
            if let value = section["addr"] { redis.addr = try reader.string(value, "jobs.redis.addr") }
            if let value = section["password"] {
                let password = try reader.string(value, "jobs.redis.password")
                redis.password = password.isEmpty ? nil : password
            }
            if let value = section["db"] { redis.db = try reader.int(value, "jobs.redis.db", range: 0...1_000_000) }
            if let value = section["key_prefix"] { redis.keyPrefix = try reader.string(value, "jobs.redis.key_prefix") }
        }
        if let node = jobs["worker_pool"] {
            let section = try reader.mapping(
                node, "jobs.worker_pool", allowed: [
                    "worker_count", "max_retries", "retry_delay", "shutdown_timeout", "queues", "handler_placement", "stall_limit",
                    "heartbeat_interval", "heartbeat_ttl", "reaper_interval",
                ])
            if let value = section["worker_count"] { workerPool.workerCount = try reader.int(value, "jobs.worker_pool.worker_count", range: 1...10_000) }
            if let value = section["max_retries"] { workerPool.maxRetries = try reader.int(value, "jobs.worker_pool.max_retries", range: 0...1000) }
            if let value = section["retry_delay"] { workerPool.retryDelay = try reader.duration(value, "jobs.worker_pool.retry_delay") }
            if let value = section["shutdown_timeout"] {
                workerPool.shutdownTimeout = try reader.duration(value, "jobs.worker_pool.shutdown_timeout")
            }
            if let value = section["queues"] { workerPool.queues = try reader.queueNames(value, "jobs.worker_pool.queues") }
            if let value = section["handler_placement"] {
                workerPool.handlerPlacement = try reader.handlerPlacement(value, "jobs.worker_pool.handler_placement")
            }
            if let value = section["stall_limit"] { workerPool.stallLimit = try reader.int(value, "jobs.worker_pool.stall_limit", range: 0...1000) }
            if let value = section["heartbeat_interval"] {
                workerPool.heartbeatInterval = try reader.duration(value, "jobs.worker_pool.heartbeat_interval")
            }
            if let value = section["heartbeat_ttl"] { workerPool.heartbeatTTL = try reader.duration(value, "jobs.worker_pool.heartbeat_ttl") }
            if let value = section["reaper_interval"] { workerPool.reaperInterval = try reader.duration(value, "jobs.worker_pool.reaper_interval") }
        }
        if let node = jobs["scheduler"] {
            let section = try reader.mapping(node, "jobs.scheduler", allowed: ["enabled", "cleanup_interval"])
            if let value = section["enabled"] { scheduler.enabled = try reader.bool(value, "jobs.scheduler.enabled") }
            if let value = section["cleanup_interval"] { scheduler.cleanupInterval = try reader.duration(value, "jobs.scheduler.cleanup_interval") }
        }
        if let node = jobs["metrics"] {
            let section = try reader.mapping(node, "jobs.metrics", allowed: ["enabled", "collection_interval", "namespace"])
            if let value = section["enabled"] { metrics.enabled = try reader.bool(value, "jobs.metrics.enabled") }
            if let value = section["collection_interval"] {
                metrics.collectionInterval = try reader.duration(value, "jobs.metrics.collection_interval")
            }
            if let value = section["namespace"] { metrics.namespace = try reader.string(value, "jobs.metrics.namespace") }
        }
    }
}

/// Typed reads of YAML nodes, each failing with the key's name and line; the built-in handlers read
/// their section with it too.
package struct YAMLReader {
    let source: String

    package init(source: String) {
        self.source = source
    }

    /// The document's root node; nil for an empty document.
    package func root(of yaml: String) throws(ConfigurationError) -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError("\(source) is not valid YAML: \(error)")
        }
    }

    package func fail(_ node: Node, _ key: String, _ problem: String) -> ConfigurationError {
        let line = node.mark.map { " (line \($0.line))" } ?? ""
        return ConfigurationError("\(source): \(key)\(line) \(problem)")
    }

    package func scalar(_ node: Node, _ key: String, _ expected: String) throws(ConfigurationError) -> String {
        guard let scalar = node.scalar else { throw fail(node, key, "must be \(expected)") }
        return scalar.string
    }

    package func mapping(_ node: Node, _ key: String, allowed: Set<String>) throws(ConfigurationError) -> [String: Node] {
        guard let mapping = node.mapping else { throw fail(node, key, "must be a mapping of keys to values") }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            let name = try scalar(keyNode, key, "keyed by names")
            let path = key == "the top level" ? name : "\(key).\(name)"
            guard allowed.contains(name) else {
                throw fail(keyNode, path, "is not a known key (known here: \(allowed.sorted().joined(separator: ", ")))")
            }
            result[name] = value
        }
        return result
    }

    package func string(_ node: Node, _ key: String) throws(ConfigurationError) -> String {
        try scalar(node, key, "a string")
    }

    package func bool(_ node: Node, _ key: String) throws(ConfigurationError) -> Bool {
        switch try scalar(node, key, "true or false").lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail(node, key, "must be true or false")
        }
    }

    package func int(_ node: Node, _ key: String, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let value = Int(try scalar(node, key, "a whole number")) else { throw fail(node, key, "must be a whole number") }
        guard range.contains(value) else { throw fail(node, key, "must be between \(range.lowerBound) and \(range.upperBound)") }
        return value
    }

    package func duration(_ node: Node, _ key: String) throws(ConfigurationError) -> Duration {
        let text = try scalar(node, key, "a duration such as \"30s\"")
        do {
            return try Duration.parse(text)
        } catch {
            throw fail(node, key, "must be a duration such as \"500ms\", \"30s\", \"5m\" or \"1h30m\", not \(text.debugDescription)")
        }
    }

    func handlerPlacement(_ node: Node, _ key: String) throws(ConfigurationError) -> JobWorkerPool.HandlerPlacement {
        let text = try scalar(node, key, "global_executor, queue_threads or dedicated_threads")
        guard let placement = JobWorkerPool.HandlerPlacement(name: text) else {
            throw fail(node, key, "must be global_executor, queue_threads or dedicated_threads, not \(text.debugDescription)")
        }
        return placement
    }

    func queueNames(_ node: Node, _ key: String) throws(ConfigurationError) -> [QueueName] {
        guard let sequence = node.sequence else { throw fail(node, key, "must be a list of queue names") }
        var names: [QueueName] = []
        for item in sequence {
            let text = try scalar(item, key, "a list of queue names")
            do {
                names.append(try QueueName(text))
            } catch {
                throw fail(item, key, "has \(text.debugDescription), which is not a queue name: \(error.message)")
            }
        }
        return names
    }

    func queues(_ node: Node) throws(ConfigurationError) -> [QueueDefinition] {
        guard let mapping = node.mapping else { throw fail(node, "queues", "must map queue names to their settings") }
        var definitions: [QueueDefinition] = []
        for (nameNode, settings) in mapping {
            let text = try scalar(nameNode, "queues", "keyed by queue names")
            let name: QueueName
            do {
                name = try QueueName(text)
            } catch {
                throw fail(nameNode, "queues.\(text)", "is not a queue name: \(error.message)")
            }
            let section = try self.mapping(settings, "queues.\(text)", allowed: ["priority_levels", "max_jobs"])
            var priorities = Set(JobPriority.allCases)
            if let levels = section["priority_levels"] {
                guard let sequence = levels.sequence, !sequence.isEmpty else {
                    throw fail(levels, "queues.\(text).priority_levels", "must be a list of low, normal, high or critical")
                }
                priorities = []
                for item in sequence {
                    let level = try scalar(item, "queues.\(text).priority_levels", "a list of priorities")
                    guard let priority = JobPriority(rawValue: level) else {
                        throw fail(item, "queues.\(text).priority_levels", "has \(level.debugDescription); use low, normal, high or critical")
                    }
                    priorities.insert(priority)
                }
            }
            let maxJobs = try section["max_jobs"].map { node throws(ConfigurationError) in
                try int(node, "queues.\(text).max_jobs", range: 1...Int(Int32.max))
            }
            do {
                definitions.append(try QueueDefinition(name: name, priorities: priorities, maxJobs: maxJobs))
            } catch {
                throw fail(settings, "queues.\(text)", error.message)
            }
        }
        return definitions
    }

    package func strings(_ node: Node, _ key: String) throws(ConfigurationError) -> [String] {
        guard let sequence = node.sequence else { throw fail(node, key, "must be a list of strings") }
        return try sequence.map { item throws(ConfigurationError) in try scalar(item, key, "a list of strings") }
    }

    /// The node as JSON: mappings become objects, sequences arrays, and plain scalars numbers, booleans
    /// or null where YAML reads them so (quoted ones stay strings).
    package func json(_ node: Node, _ key: String) throws(ConfigurationError) -> JSONValue {
        switch node {
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (keyNode, value) in mapping {
                let name = try scalar(keyNode, key, "keyed by names")
                members[name] = try json(value, "\(key).\(name)")
            }
            return .object(members)
        case .sequence(let sequence):
            return .array(try sequence.map { item throws(ConfigurationError) in try json(item, key) })
        case .scalar(let scalar):
            guard scalar.style == .plain else { return .string(scalar.string) }
            if let value = node.bool { return .bool(value) }
            if let value = node.int { return .number(Double(value)) }
            if let value = node.float { return .number(value) }
            if node.null != nil { return .null }
            return .string(scalar.string)
        case .alias:
            throw fail(node, key, "uses a YAML alias, which is not read here")
        }
    }

    /// `schedules: {<id>: {job, cron | every, timezone, payload, queue, priority, missed_runs}}`.
    func schedules(_ node: Node) throws(ConfigurationError) -> [RecurringJob] {
        guard let mapping = node.mapping else { throw fail(node, "schedules", "must map recurring job ids to their settings") }
        var jobs: [RecurringJob] = []
        for (idNode, settings) in mapping {
            let id = try scalar(idNode, "schedules", "keyed by recurring job ids")
            let key = "schedules.\(id)"
            let section = try self.mapping(
                settings, key, allowed: ["job", "cron", "every", "timezone", "payload", "queue", "priority", "missed_runs"])
            guard let jobNode = section["job"] else { throw fail(settings, key, "needs job: the job type to run") }
            let jobText = try string(jobNode, "\(key).job")
            let name: JobName
            do {
                name = try JobName(jobText)
            } catch {
                throw fail(jobNode, "\(key).job", "is not a job name: \(error.message)")
            }
            let expression: String
            switch (section["cron"], section["every"]) {
            case (let cron?, nil): expression = try string(cron, "\(key).cron")
            case (nil, let every?): expression = "@every " + (try string(every, "\(key).every"))
            default: throw fail(settings, key, "needs one of cron (\"0 3 * * *\", \"@daily\") or every (\"15m\")")
            }
            let zone = try section["timezone"].map { node throws(ConfigurationError) in try string(node, "\(key).timezone") } ?? "UTC"
            let schedule: Schedule
            do {
                schedule = try Schedule(expression, timeZone: zone)
            } catch {
                throw fail(section["cron"] ?? section["every"] ?? settings, key, error.message)
            }
            var options = JobOptions()
            if let queue = section["queue"] {
                let text = try string(queue, "\(key).queue")
                do {
                    options.queue = try QueueName(text)
                } catch {
                    throw fail(queue, "\(key).queue", "is not a queue name: \(error.message)")
                }
            }
            if let priority = section["priority"] {
                let text = try string(priority, "\(key).priority")
                guard let value = JobPriority(rawValue: text) else { throw fail(priority, "\(key).priority", "must be low, normal, high or critical") }
                options.priority = value
            }
            var missedRuns = RecurringJob.MissedRuns.skip
            if let missed = section["missed_runs"] {
                let text = try string(missed, "\(key).missed_runs")
                guard let value = RecurringJob.MissedRuns(rawValue: text) else {
                    throw fail(missed, "\(key).missed_runs", "must be \(["skip", "run_once"].joined(separator: " or "))")
                }
                missedRuns = value
            }
            let payload: [UInt8]
            do {
                payload = Array(try JSONEncoder().encode(section["payload"].map { node throws(ConfigurationError) in try json(node, "\(key).payload") } ?? .object([:])))
            } catch let error as ConfigurationError {
                throw error
            } catch {
                throw fail(settings, "\(key).payload", "cannot be written as JSON")
            }
            do {
                jobs.append(try RecurringJob(id: id, schedule: schedule, name: name, payload: payload, options: options, missedRuns: missedRuns))
            } catch {
                throw fail(idNode, key, error.message)
            }
        }
        return jobs
    }
}

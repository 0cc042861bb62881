import BackgroundJobsDomain

/// Environment variables that override the file, for containers and `make demo`:
///
/// | variable | key |
/// |---|---|
/// | `REDIS_URL` | `jobs.redis.url` |
/// | `JOBS_REDIS_ADDR`, `JOBS_REDIS_PASSWORD`, `JOBS_REDIS_DB`, `JOBS_KEY_PREFIX` | `jobs.redis.*` |
/// | `JOBS_WORKER_COUNT`, `JOBS_MAX_RETRIES`, `JOBS_RETRY_DELAY`, `JOBS_SHUTDOWN_TIMEOUT`, `JOBS_HANDLER_PLACEMENT`, `JOBS_STALL_LIMIT`, `JOBS_HEARTBEAT_INTERVAL`, `JOBS_HEARTBEAT_TTL`, `JOBS_REAPER_INTERVAL` | `jobs.worker_pool.*` |
/// | `JOBS_SCHEDULER_ENABLED`, `JOBS_CLEANUP_INTERVAL` | `jobs.scheduler.*` |
/// | `JOBS_METRICS_ENABLED`, `JOBS_METRICS_INTERVAL`, `JOBS_METRICS_NAMESPACE` | `jobs.metrics.*` |
extension JobSystemConfiguration {
    /// This configuration with the variables of `environment` applied; a bad value names its variable.
    public func applyingEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> JobSystemConfiguration {
        var configuration = self
        func value(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        func int(_ name: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
            guard let text = value(name) else { return nil }
            guard let number = Int(text), range.contains(number) else {
                throw ConfigurationError("the environment variable \(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(text.debugDescription)")
            }
            return number
        }
        func bool(_ name: String) throws(ConfigurationError) -> Bool? {
            guard let text = value(name) else { return nil }
            switch text.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw ConfigurationError("the environment variable \(name) must be true or false, not \(text.debugDescription)")
            }
        }
        func duration(_ name: String) throws(ConfigurationError) -> Duration? {
            guard let text = value(name) else { return nil }
            do {
                return try Duration.parse(text)
            } catch {
                throw ConfigurationError("the environment variable \(name) must be a duration such as 30s or 5m, not \(text.debugDescription)")
            }
        }
        if let url = value("REDIS_URL") { configuration.redis.url = url }
        if let addr = value("JOBS_REDIS_ADDR") { configuration.redis.addr = addr }
        if let password = value("JOBS_REDIS_PASSWORD") { configuration.redis.password = password }
        if let db = try int("JOBS_REDIS_DB", 0...1_000_000) { configuration.redis.db = db }
        if let prefix = value("JOBS_KEY_PREFIX") { configuration.redis.keyPrefix = prefix }
        if let count = try int("JOBS_WORKER_COUNT", 1...10_000) { configuration.workerPool.workerCount = count }
        if let retries = try int("JOBS_MAX_RETRIES", 0...1000) { configuration.workerPool.maxRetries = retries }
        if let delay = try duration("JOBS_RETRY_DELAY") { configuration.workerPool.retryDelay = delay }
        if let timeout = try duration("JOBS_SHUTDOWN_TIMEOUT") { configuration.workerPool.shutdownTimeout = timeout }
        if let name = value("JOBS_HANDLER_PLACEMENT") {
            guard let placement = JobWorkerPool.HandlerPlacement(name: name) else {
                throw ConfigurationError("the environment variable JOBS_HANDLER_PLACEMENT must be global_executor, queue_threads or dedicated_threads, not \(name.debugDescription)")
            }
            configuration.workerPool.handlerPlacement = placement
        }
        if let limit = try int("JOBS_STALL_LIMIT", 0...1000) { configuration.workerPool.stallLimit = limit }
        if let interval = try duration("JOBS_HEARTBEAT_INTERVAL") { configuration.workerPool.heartbeatInterval = interval }
        if let ttl = try duration("JOBS_HEARTBEAT_TTL") { configuration.workerPool.heartbeatTTL = ttl }
        if let interval = try duration("JOBS_REAPER_INTERVAL") { configuration.workerPool.reaperInterval = interval }
        if let enabled = try bool("JOBS_SCHEDULER_ENABLED") { configuration.scheduler.enabled = enabled }
        if let interval = try duration("JOBS_CLEANUP_INTERVAL") { configuration.scheduler.cleanupInterval = interval }
        if let enabled = try bool("JOBS_METRICS_ENABLED") { configuration.metrics.enabled = enabled }
        if let interval = try duration("JOBS_METRICS_INTERVAL") { configuration.metrics.collectionInterval = interval }
        if let namespace = value("JOBS_METRICS_NAMESPACE") { configuration.metrics.namespace = namespace }
        return configuration
    }
}

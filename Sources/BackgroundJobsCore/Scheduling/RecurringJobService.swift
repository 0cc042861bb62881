import BackgroundJobsDomain
public import Foundation
public import Logging
public import ServiceLifecycle

/// Fires recurring jobs: a `Service` that sleeps until the next firing, claims it, and submits its job.
///
/// Any number of instances may run over the same store: each firing is claimed atomically, so it submits
/// exactly one job. Time comes from `now`, and ``tick(now:)`` runs one pass, so tests drive a fixed clock.
public struct RecurringJobService: Service {
    /// How the service runs.
    public struct Configuration: Sendable {
        /// A firing found later than this is missed, and follows its job's ``RecurringJob/MissedRuns``
        /// policy; by default one minute.
        public var missedAfter: Duration
        /// The longest the service sleeps before it looks again (for jobs other instances add); 1 s.
        public var maximumSleep: Duration
        /// Retries of submitted jobs whose options and job type name none.
        public var defaultMaxRetries: Int

        /// A configuration; see each property for its default.
        public init(missedAfter: Duration = .seconds(60), maximumSleep: Duration = .seconds(1), defaultMaxRetries: Int = 3) {
            self.missedAfter = missedAfter
            self.maximumSleep = maximumSleep
            self.defaultMaxRetries = defaultMaxRetries
        }
    }

    /// What one pass did.
    public struct Tick: Sendable, Hashable {
        /// Firings this instance claimed and submitted.
        public var submitted: Int
        /// Missed firings this instance claimed and skipped.
        public var skipped: Int

        /// A result.
        public init(submitted: Int, skipped: Int) {
            self.submitted = submitted
            self.skipped = skipped
        }
    }

    let scheduler: any Scheduler
    let registry: JobRegistry?
    let configuration: Configuration
    let metrics: any JobMetrics
    let now: @Sendable () -> Date
    let logger: Logger

    /// A service firing the recurring jobs of `scheduler`; `registry` supplies per-type retry counts.
    public init(
        scheduler: any Scheduler, registry: JobRegistry? = nil, configuration: Configuration = Configuration(),
        metrics: any JobMetrics = NoJobMetrics(), now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.scheduler = scheduler
        self.registry = registry
        self.configuration = configuration
        self.metrics = metrics
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                var pause = configuration.maximumSleep
                do {
                    _ = try await tick(now: now())
                    if let next = try await scheduler.nextFiring() {
                        let untilNext = Duration.milliseconds(Int64((next.timeIntervalSince(now()) * 1000).rounded(.up)))
                        pause = max(.milliseconds(1), min(pause, untilNext))
                    }
                    failures = 0
                } catch {
                    failures += 1
                    if failures == 1 { logger.warning("firing recurring jobs failed; retrying", metadata: ["error": "\(error)"]) }
                }
                // A shutdown cancels the sleep; the loop then ends without an error.
                try? await Task.sleep(for: pause)
            }
        }
    }

    /// Claims and submits every firing due at `now`.
    @discardableResult
    public func tick(now: Date) async throws -> Tick {
        var result = Tick(submitted: 0, skipped: 0)
        while true {
            let due = try await scheduler.due(now: now, limit: 100)
            for (job, firing) in due {
                let next = job.schedule.nextFiring(after: now)
                let missed = now.timeIntervalSince(firing) > configuration.missedAfter.timeInterval
                if missed && job.missedRuns == .skip {
                    if try await scheduler.claim(job.id, firing: firing, next: next, submission: nil) {
                        result.skipped += 1
                        logger.info("skipped a missed firing", metadata: ["recurring.id": "\(job.id)", "firing": "\(firing)"])
                    }
                    continue
                }
                let maxRetries = registry?.retryPolicy(for: job.name)?.maxRetries ?? configuration.defaultMaxRetries
                let submission = Job(
                    id: JobID.generate(at: now), name: job.name, payload: job.payload, options: job.options, maxRetries: maxRetries,
                    createdAt: now)
                if try await scheduler.claim(job.id, firing: firing, next: next, submission: submission) {
                    result.submitted += 1
                    metrics.jobEnqueued(submission)
                    logger.debug("fired", metadata: ["recurring.id": "\(job.id)", JobLogMetadata.id: "\(submission.id)"])
                }
            }
            // A full batch may leave more due: look again; a short one was everything.
            if due.count < 100 { return result }
        }
    }
}

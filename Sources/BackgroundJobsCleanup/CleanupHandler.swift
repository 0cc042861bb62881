public import BackgroundJobsCore
public import BackgroundJobsDomain
public import Foundation
import Logging
import NIOPosix

/// Runs `cleanup` jobs: each kind of ``CleanupKind``, or all of them for `full_maintenance`, each with a
/// dry run that reports what it would do. The report is the job's result.
///
/// File work runs on NIO's blocking thread pool, never on Swift's cooperative pool. Each kind deletes at
/// most ``CleanupConfiguration/batchLimit`` items a run; a recurring job works a backlog off over runs.
public struct CleanupHandler: Sendable {
    let configuration: CleanupConfiguration
    let store: (any CleanupStore)?
    let queue: (any JobQueue)?

    /// A handler; without a `store` the session and user kinds fail (and `full_maintenance` skips them),
    /// without a `queue` the job data kind does.
    public init(configuration: CleanupConfiguration, store: (any CleanupStore)? = nil, queue: (any JobQueue)? = nil) {
        self.configuration = configuration
        self.store = store
        self.queue = queue
    }

    /// Registers the `cleanup` job type.
    public func register(into registry: inout JobRegistry, retry: RetryPolicy? = nil) {
        let handler = self
        registry.register(.cleanup, retry: retry) { request, context in
            let report = try await handler.run(request)
            if context.logs(at: .info) {
                let counts = report.sections.map { "\($0.kind.rawValue)=\($0.deleted)" }.joined(separator: " ")
                context.logger.info("cleanup done", metadata: ["dry_run": "\(report.dryRun)", "deleted": "\(counts)"])
            }
            return report
        }
    }

    /// Runs one request at `now`.
    public func run(_ request: CleanupRequest, now: Date = Date()) async throws -> CleanupReport {
        let override = try request.olderThan.map { text in
            do {
                return try Duration.parse(text)
            } catch {
                throw NonRetryableError("older_than \(text.debugDescription) is not a duration such as \"12h\" or \"30d\"")
            }
        }
        let kinds: [CleanupKind]
        if request.kind == .fullMaintenance {
            kinds = CleanupKind.allCases.filter { $0 != .fullMaintenance && isAvailable($0) }
        } else {
            guard isAvailable(request.kind) else {
                throw NonRetryableError("\(request.kind.rawValue) cleanup needs \(requirement(request.kind)), and none is configured")
            }
            kinds = [request.kind]
        }
        var sections: [CleanupReport.Section] = []
        for kind in kinds {
            try Task.checkCancellation()
            sections.append(try await run(kind, dryRun: request.dryRun, override: override, now: now))
        }
        return CleanupReport(dryRun: request.dryRun, sections: sections)
    }

    private func isAvailable(_ kind: CleanupKind) -> Bool {
        switch kind {
        case .sessions, .inactiveUsers, .unverifiedUsers, .deletedUsers: store != nil
        case .jobData: queue != nil
        case .tempFiles, .logs, .fullMaintenance: true
        }
    }

    private func requirement(_ kind: CleanupKind) -> String {
        kind == .jobData ? "the job queue" : "a CleanupStore (the application's sessions and users)"
    }

    private func run(_ kind: CleanupKind, dryRun: Bool, override: Duration?, now: Date) async throws -> CleanupReport.Section {
        var section = CleanupReport.Section(kind: kind)
        let configuration = self.configuration
        func before(_ age: Duration) -> Date { now.addingTimeInterval(-(override ?? age).timeInterval) }
        switch kind {
        case .tempFiles:
            let cutoff = before(configuration.temporaryMaximumAge)
            section = try await NIOThreadPool.singleton.runIfActive {
                var section = CleanupReport.Section(kind: kind)
                TemporaryFiles.clean(
                    roots: configuration.temporaryRoots, changedBefore: cutoff, dryRun: dryRun, limit: configuration.batchLimit,
                    into: &section)
                return section
            }
        case .logs:
            // An override moves both ages: compress and delete what is older than it.
            let ages = LogFiles.Ages(
                compressBefore: before(configuration.logCompressionAge),
                deleteBefore: override == nil ? before(configuration.logRetention) : .distantPast,
                rotationSize: configuration.logRotationSize)
            section = try await NIOThreadPool.singleton.runIfActive {
                var section = CleanupReport.Section(kind: kind)
                LogFiles.clean(roots: configuration.logRoots, ages: ages, dryRun: dryRun, limit: configuration.batchLimit, into: &section)
                return section
            }
        case .sessions:
            let store = self.store!
            let expired = try await store.expiredSessions(at: now, limit: configuration.batchLimit)
            let orphaned = try await store.orphanedSessions(idleSince: before(configuration.sessionGrace), limit: configuration.batchLimit)
            try await delete(Array(Set(expired + orphaned)).sorted(), what: "session", dryRun: dryRun, into: &section, using: store.deleteSessions)
        case .inactiveUsers:
            let store = self.store!
            let ids = try await store.usersInactive(since: before(configuration.inactiveUserAge), limit: configuration.batchLimit)
            try await delete(ids, what: "user", dryRun: dryRun, into: &section, using: store.deleteUsers)
        case .unverifiedUsers:
            let store = self.store!
            let ids = try await store.usersUnverified(createdBefore: before(configuration.unverifiedUserAge), limit: configuration.batchLimit)
            try await delete(ids, what: "user", dryRun: dryRun, into: &section, using: store.deleteUsers)
        case .deletedUsers:
            let store = self.store!
            let ids = try await store.usersDeleted(before: before(configuration.deletedUserAge), limit: configuration.batchLimit)
            try await delete(ids, what: "user", dryRun: dryRun, into: &section, using: store.deleteUsers)
        case .jobData:
            section.deleted = try await queue!.sweep(now: now, dryRun: dryRun)
            section.note("delete \(section.deleted) index entries of finished jobs past their retention", dryRun: true)
        case .fullMaintenance:
            break
        }
        return section
    }

    private func delete(
        _ ids: [String], what: String, dryRun: Bool, into section: inout CleanupReport.Section,
        using delete: ([String]) async throws -> Int
    ) async throws {
        for id in ids { section.note("delete \(what) \(id)", dryRun: dryRun) }
        if dryRun {
            section.deleted = ids.count
        } else {
            for chunk in stride(from: 0, to: ids.count, by: 500) {
                section.deleted += try await delete(Array(ids[chunk..<min(chunk + 500, ids.count)]))
            }
        }
    }
}

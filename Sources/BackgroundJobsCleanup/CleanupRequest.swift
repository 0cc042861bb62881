public import BackgroundJobsCore
import BackgroundJobsDomain

/// The payload of a `cleanup` job.
///
/// ```json
/// {"kind": "temp_files", "dry_run": true, "older_than": "2d"}
/// ```
public struct CleanupRequest: Codable, Sendable, Hashable {
    /// What to clean up.
    public var kind: CleanupKind
    /// List what would be deleted (or compressed, rotated) without touching anything.
    public var dryRun: Bool
    /// Overrides the configured age for this run: a duration such as `"12h"` or `"30d"`.
    public var olderThan: String?

    public init(kind: CleanupKind, dryRun: Bool = false, olderThan: String? = nil) {
        self.kind = kind
        self.dryRun = dryRun
        self.olderThan = olderThan
    }

    enum CodingKeys: String, CodingKey {
        case kind
        case dryRun = "dry_run"
        case olderThan = "older_than"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(CleanupKind.self, forKey: .kind)
        dryRun = try container.decodeIfPresent(Bool.self, forKey: .dryRun) ?? false
        olderThan = try container.decodeIfPresent(String.self, forKey: .olderThan)
    }
}

/// The kinds of cleanup (seed 003's).
public enum CleanupKind: String, Codable, Sendable, CaseIterable {
    /// Files under the temporary roots not changed for longer than the threshold, and directories left empty.
    case tempFiles = "temp_files"
    /// Log files: rotated when over the size limit, compressed after some days, deleted past retention.
    case logs
    /// Sessions past their expiry, and sessions of users that no longer exist (through the cleanup store).
    case sessions
    /// Users not seen for longer than the threshold (through the cleanup store).
    case inactiveUsers = "inactive_users"
    /// Users who never verified their address within the threshold (through the cleanup store).
    case unverifiedUsers = "unverified_users"
    /// Users deleted (softly) longer ago than the threshold, removed for good (through the cleanup store).
    case deletedUsers = "deleted_users"
    /// Finished jobs past their retention: the engine's sweep.
    case jobData = "job_data"
    /// All of the above, one after another, with a count for each.
    case fullMaintenance = "full_maintenance"
}

extension JobDefinition where Payload == CleanupRequest {
    /// The `cleanup` job type.
    public static var cleanup: JobDefinition<CleanupRequest> { JobDefinition("cleanup") }
}

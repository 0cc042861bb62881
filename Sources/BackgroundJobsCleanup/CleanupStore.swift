#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// The application's sessions and users, as cleanup sees them: a port the host application implements
/// over its own storage (``RedisCleanupStore`` is an example over Redis keys).
///
/// Each `find` call only reads, so a dry run calls nothing else; each `delete` call removes what it is
/// given atomically and returns how many it removed (those already gone do not count).
public protocol CleanupStore: Sendable {
    /// Sessions whose expiry is before `now`, at most `limit`.
    func expiredSessions(at now: Date, limit: Int) async throws -> [String]
    /// Sessions idle since before `idleSince` whose user no longer exists, at most `limit`.
    func orphanedSessions(idleSince: Date, limit: Int) async throws -> [String]
    func deleteSessions(_ ids: [String]) async throws -> Int

    /// Users last seen before `date` (verified or not), at most `limit`.
    func usersInactive(since date: Date, limit: Int) async throws -> [String]
    /// Users created before `date` who never verified, at most `limit`.
    func usersUnverified(createdBefore date: Date, limit: Int) async throws -> [String]
    /// Users softly deleted before `date`, at most `limit`.
    func usersDeleted(before date: Date, limit: Int) async throws -> [String]
    /// Removes users for good, with their sessions.
    func deleteUsers(_ ids: [String]) async throws -> Int
}

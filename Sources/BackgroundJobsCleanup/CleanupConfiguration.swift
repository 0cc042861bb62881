/// Where cleanup looks and how old things must be before they go.
public struct CleanupConfiguration: Sendable {
    /// Folders whose old files are temporary; nothing outside them is touched.
    public var temporaryRoots: [String]
    /// Temporary files not changed for this long are deleted; by default 24 hours.
    public var temporaryMaximumAge: Duration
    /// Folders holding log files (`*.log`, rotated `*.log.N`, compressed `*.gz`).
    public var logRoots: [String]
    /// An active log over this size is rotated (`app.log` → `app.log.1`); by default 10 MiB.
    public var logRotationSize: Int
    /// Log files not changed for this long are compressed; by default 1 day.
    public var logCompressionAge: Duration
    /// Log files not changed for this long are deleted, compressed or not; by default 30 days.
    public var logRetention: Duration
    /// Sessions are expired once past their expiry; this is how long the store's orphans (sessions of
    /// users that no longer exist) must have been idle before they go; by default 1 hour.
    public var sessionGrace: Duration
    /// Users not seen for this long are deleted; by default 2 years.
    public var inactiveUserAge: Duration
    /// Users who did not verify within this are deleted; by default 7 days.
    public var unverifiedUserAge: Duration
    /// Softly deleted users are removed for good after this; by default 30 days.
    public var deletedUserAge: Duration
    /// The most items one run deletes of each kind, so a backlog is worked off over several runs
    /// instead of one long one; by default 10,000.
    public var batchLimit: Int

    /// A configuration; every parameter has a default.
    public init(
        temporaryRoots: [String] = [],
        temporaryMaximumAge: Duration = .seconds(24 * 3600),
        logRoots: [String] = [],
        logRotationSize: Int = 10 * 1024 * 1024,
        logCompressionAge: Duration = .seconds(24 * 3600),
        logRetention: Duration = .seconds(30 * 24 * 3600),
        sessionGrace: Duration = .seconds(3600),
        inactiveUserAge: Duration = .seconds(730 * 24 * 3600),
        unverifiedUserAge: Duration = .seconds(7 * 24 * 3600),
        deletedUserAge: Duration = .seconds(30 * 24 * 3600),
        batchLimit: Int = 10_000
    ) {
        self.temporaryRoots = temporaryRoots
        self.temporaryMaximumAge = temporaryMaximumAge
        self.logRoots = logRoots
        self.logRotationSize = logRotationSize
        self.logCompressionAge = logCompressionAge
        self.logRetention = logRetention
        self.sessionGrace = sessionGrace
        self.inactiveUserAge = inactiveUserAge
        self.unverifiedUserAge = unverifiedUserAge
        self.deletedUserAge = deletedUserAge
        self.batchLimit = batchLimit
    }
}

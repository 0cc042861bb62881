/// What a cleanup did, or in a dry run would do: the job's result.
public struct CleanupReport: Codable, Sendable, Hashable {
    /// One kind's figures.
    public struct Section: Codable, Sendable, Hashable {
        public var kind: CleanupKind
        /// Items deleted (files, sessions, users, job entries).
        public var deleted: Int = 0
        /// Log files compressed.
        public var compressed: Int = 0
        /// Log files rotated.
        public var rotated: Int = 0
        /// Bytes the deleted files held (compression counts the bytes it saved).
        public var bytesFreed: Int = 0
        /// What was (or would be) done, one line each: `delete /tmp/x`, `compress /var/log/a.log.1`.
        /// In a real run only the first 1,000; a dry run is for looking, so it lists them all.
        public var actions: [String] = []
        /// Items that could not be handled, with the reason; the run goes on past them.
        public var errors: [String] = []

        public init(kind: CleanupKind) { self.kind = kind }

        enum CodingKeys: String, CodingKey {
            case kind, deleted, compressed, rotated, actions, errors
            case bytesFreed = "bytes_freed"
        }
    }

    /// Whether nothing was touched.
    public var dryRun: Bool
    public var sections: [Section]

    public init(dryRun: Bool, sections: [Section]) {
        self.dryRun = dryRun
        self.sections = sections
    }

    enum CodingKeys: String, CodingKey {
        case sections
        case dryRun = "dry_run"
    }
}

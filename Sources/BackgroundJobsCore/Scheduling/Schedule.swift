public import BackgroundJobsDomain
// Full Foundation for Calendar and TimeZone, which know every IANA zone and its daylight saving rules.
public import Foundation

/// When a recurring job fires: a standard five-field cron expression in a time zone, a shorthand
/// (`@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`), or a fixed interval (`@every 30s`).
///
/// Cron expressions follow Vixie cron: fields are minute, hour, day of month, month, day of week; each is
/// `*`, a value, a range `a-b`, a step `*/n` or `a-b/n`, or a comma list of those; months and weekdays may
/// be names (`JAN`, `MON`); weekday 0 and 7 are Sunday. When both day fields are restricted, a day matching
/// either one matches.
///
/// Daylight saving time: a local time that does not exist (02:30 on a spring-forward day) fires once, at
/// the same offset past the gap (03:30); a local time that exists twice (01:30 on a fall-back day) fires
/// once, at its first occurrence. Intervals are counted from the Unix epoch, so every instance computes
/// the same firing times.
public struct Schedule: Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Sendable, Hashable {
        case cron(CronFields)
        case every(milliseconds: Int64)
    }

    /// The expression as given.
    public let expression: String
    /// The zone cron fields are read in.
    public let timeZone: TimeZone
    private let kind: Kind

    /// Parses `expression` for `timeZone` (UTC by default), or says what is wrong with it.
    public init(_ expression: String, timeZone: TimeZone = TimeZone(identifier: "UTC")!) throws(JobError) {
        let trimmed = expression.trimmingCharacters(in: .whitespaces)
        self.expression = trimmed
        self.timeZone = timeZone
        let shorthands = [
            "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
            "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
        ]
        if let expanded = shorthands[trimmed.lowercased()] {
            self.kind = .cron(try CronFields(expanded))
        } else if trimmed.lowercased().hasPrefix("@every ") {
            let interval = try Self.interval(String(trimmed.dropFirst("@every ".count)))
            self.kind = .every(milliseconds: interval)
        } else if trimmed.hasPrefix("@") {
            throw JobError(.invalidOptions, "unknown schedule \(trimmed.debugDescription): use @yearly, @monthly, @weekly, @daily, @hourly or @every <interval>")
        } else {
            self.kind = .cron(try CronFields(trimmed))
        }
    }

    /// A schedule in the zone named `timeZone` (an IANA name such as `Europe/Berlin`).
    public init(_ expression: String, timeZone identifier: String) throws(JobError) {
        guard let zone = TimeZone(identifier: identifier) else {
            throw JobError(.invalidOptions, "unknown time zone \(identifier.debugDescription)")
        }
        try self.init(expression, timeZone: zone)
    }

    public var description: String { "\(expression) (\(timeZone.identifier))" }

    /// The first firing strictly after `date`, or `nil` if there is none in the next five years (such as
    /// `0 0 31 2 *`).
    public func nextFiring(after date: Date) -> Date? {
        switch kind {
        case .every(let interval):
            let now = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
            let next = (now / interval + 1) * interval
            return Date(timeIntervalSince1970: Double(next) / 1000)
        case .cron(let fields):
            return fields.nextFiring(after: date, in: timeZone)
        }
    }

    /// Reads the interval of `@every`, at least one second.
    private static func interval(_ text: String) throws(JobError) -> Int64 {
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw JobError(.invalidOptions, "@every needs an interval such as 30s, 5m or 1h")
        }
        let duration: Duration
        do {
            duration = try Duration.parse(text)
        } catch {
            throw JobError(.invalidOptions, "the interval \(text.debugDescription) is not like 30s, 5m, 1h30m or 500ms")
        }
        let milliseconds = Int64(duration.timeInterval * 1000)
        guard milliseconds >= 1000 else { throw JobError(.invalidOptions, "an @every interval must be at least one second") }
        return milliseconds
    }
}

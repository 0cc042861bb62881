import BackgroundJobsCore
import BackgroundJobsDomain
import Foundation
import Testing

@Suite("Schedules")
struct ScheduleTests {
    static func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static func firings(_ schedule: Schedule, from start: Date, until end: Date) -> [Date] {
        var result: [Date] = []
        var cursor = start
        while let next = schedule.nextFiring(after: cursor), next < end {
            result.append(next)
            cursor = next
        }
        return result
    }

    @Test("cron fields: steps, ranges, names, and the next firing after a weekend")
    func cron() throws {
        let schedule = try Schedule("*/15 9-17 * * MON-FRI", timeZone: "Europe/Berlin")
        // Friday 2026-11-20 17:50 in Berlin (UTC+1) is 16:50 UTC; next is Monday 09:00 Berlin.
        #expect(schedule.nextFiring(after: Self.utc("2026-11-20T16:50:00Z")) == Self.utc("2026-11-23T08:00:00Z"))
        #expect(schedule.nextFiring(after: Self.utc("2026-11-23T08:00:00Z")) == Self.utc("2026-11-23T08:15:00Z"))
        let monthly = try Schedule("0 6 1 JAN,JUL *")
        #expect(monthly.nextFiring(after: Self.utc("2026-01-01T06:00:00Z")) == Self.utc("2026-07-01T06:00:00Z"))
    }

    @Test("when both day fields are restricted, either one matches, as in Vixie cron")
    func dayOr() throws {
        let schedule = try Schedule("0 0 13 * FRI")
        let days = Self.firings(schedule, from: Self.utc("2026-11-01T00:00:00Z"), until: Self.utc("2026-12-01T00:00:00Z"))
        let dayNumbers = days.map { Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: $0).day! }
        #expect(dayNumbers == [6, 13, 20, 27])
    }

    @Test("shorthands and fixed intervals counted from the epoch")
    func shorthands() throws {
        let start = Self.utc("2026-11-23T10:17:12Z")
        #expect(try Schedule("@hourly").nextFiring(after: start) == Self.utc("2026-11-23T11:00:00Z"))
        #expect(try Schedule("@daily").nextFiring(after: start) == Self.utc("2026-11-24T00:00:00Z"))
        #expect(try Schedule("@weekly").nextFiring(after: start) == Self.utc("2026-11-29T00:00:00Z"))
        #expect(try Schedule("@every 30s").nextFiring(after: start) == Self.utc("2026-11-23T10:17:30Z"))
        #expect(try Schedule("@every 1h30m").nextFiring(after: start) == Self.utc("2026-11-23T10:30:00Z"))
        #expect(try Schedule("0 0 31 2 *").nextFiring(after: start) == nil, "the 31st of February never comes")
    }

    @Test("a 02:30 job on a spring-forward day runs once, at 03:30")
    func springForward() throws {
        let schedule = try Schedule("30 2 * * *", timeZone: "America/New_York")
        let firings = Self.firings(schedule, from: Self.utc("2026-03-07T00:00:00Z"), until: Self.utc("2026-03-10T00:00:00Z"))
        // 02:30 EST = 07:30Z; on the 8th 02:30 does not exist and fires at 03:30 EDT = 07:30Z; then 02:30 EDT = 06:30Z.
        #expect(firings == [Self.utc("2026-03-07T07:30:00Z"), Self.utc("2026-03-08T07:30:00Z"), Self.utc("2026-03-09T06:30:00Z")])
        let hourly = try Schedule("30 * * * *", timeZone: "America/New_York")
        let day = Self.firings(hourly, from: Self.utc("2026-03-08T05:00:00Z"), until: Self.utc("2026-03-09T04:00:00Z"))
        #expect(day.count == 23, "the lost hour fires once, not twice")
        #expect(Set(day).count == day.count)
    }

    @Test("a 01:30 job on a fall-back day runs once, at its first occurrence")
    func fallBack() throws {
        let schedule = try Schedule("30 1 * * *", timeZone: "America/New_York")
        let firings = Self.firings(schedule, from: Self.utc("2026-10-31T00:00:00Z"), until: Self.utc("2026-11-03T00:00:00Z"))
        #expect(firings == [Self.utc("2026-10-31T05:30:00Z"), Self.utc("2026-11-01T05:30:00Z"), Self.utc("2026-11-02T06:30:00Z")])
    }

    @Test("bad expressions are refused with a message naming the problem", arguments: [
        ("* * * *", "the cron expression \"* * * *\" has 4 fields, not 5 (minute hour day-of-month month day-of-week)"),
        ("61 * * * *", "the cron minute field \"61\" has 61, outside 0-59"),
        ("0 0 * FOO *", "the cron month field \"FOO\" has \"FOO\", which is not a number"),
        ("*/0 * * * *", "the cron minute field \"*/0\" has a step that is not a positive number"),
        ("5-1 * * * *", "the cron minute field \"5-1\" has a range that runs backwards"),
        ("@every 0s", "an @every interval must be at least one second"),
        ("@every soon", "the interval \"soon\" is not like 30s, 5m, 1h30m or 500ms"),
        ("@sometimes", "unknown schedule \"@sometimes\": use @yearly, @monthly, @weekly, @daily, @hourly or @every <interval>"),
    ])
    func refused(expression: String, message: String) {
        #expect(throws: JobError(.invalidOptions, message)) { try Schedule(expression) }
    }

    @Test("an unknown time zone is refused")
    func badZone() {
        #expect(throws: JobError(.invalidOptions, "unknown time zone \"Mars/Olympus\"")) { try Schedule("@daily", timeZone: "Mars/Olympus") }
    }
}

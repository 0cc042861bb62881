import BackgroundJobsDomain
import Foundation

/// The five parsed fields of a cron expression, each as the set of values it allows.
struct CronFields: Sendable, Hashable {
    let minutes: [Int]
    let hours: [Int]
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    /// 0 is Sunday.
    let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    init(_ expression: String) throws(JobError) {
        let fields = expression.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 5 else {
            throw JobError(.invalidOptions, "the cron expression \(expression.debugDescription) has \(fields.count) fields, not 5 (minute hour day-of-month month day-of-week)")
        }
        let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        let days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        minutes = try Self.values(fields[0], "minute", 0...59).sorted()
        hours = try Self.values(fields[1], "hour", 0...23).sorted()
        daysOfMonth = Set(try Self.values(fields[2], "day of month", 1...31))
        self.months = Set(try Self.values(fields[3], "month", 1...12, names: months, firstName: 1))
        daysOfWeek = Set(try Self.values(fields[4], "day of week", 0...7, names: days, firstName: 0).map { $0 % 7 })
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
    }

    func nextFiring(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var day = calendar.startOfDay(for: date)
        // Five years covers every pattern that can match at all (the 29th of February is within four).
        for _ in 0..<(5 * 366) {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if let year = parts.year, let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday,
                months.contains(month), matches(dayOfMonth: dayOfMonth, weekday: weekday - 1),
                let firing = firstFiring(year: year, month: month, day: dayOfMonth, after: date, calendar: calendar)
            {
                return firing
            }
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = calendar.startOfDay(for: next)
        }
        return nil
    }

    private func matches(dayOfMonth: Int, weekday: Int) -> Bool {
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): daysOfMonth.contains(dayOfMonth) || daysOfWeek.contains(weekday)
        case (true, false): daysOfMonth.contains(dayOfMonth)
        case (false, true): daysOfWeek.contains(weekday)
        case (false, false): true
        }
    }

    /// The earliest firing of one local day after `date`. Local times are tried in order, but across a
    /// daylight saving change a later local time can be an earlier instant (03:00 comes before the 02:30
    /// that was moved past the gap), so candidates up to three hours after the first one are compared too.
    private func firstFiring(year: Int, month: Int, day: Int, after date: Date, calendar: Calendar) -> Date? {
        var best: (date: Date, hour: Int)?
        for hour in hours {
            if let best, hour > best.hour + 3 { break }
            for minute in minutes {
                let local = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
                guard let instant = calendar.date(from: local), instant > date else { continue }
                if best == nil || instant < best!.date { best = (instant, best?.hour ?? hour) }
            }
        }
        return best?.date
    }

    private static func values(
        _ field: Substring, _ name: String, _ range: ClosedRange<Int>, names: [String] = [], firstName: Int = 0
    ) throws(JobError) -> [Int] {
        func invalid(_ why: String) -> JobError {
            JobError(.invalidOptions, "the cron \(name) field \(String(field).debugDescription) \(why)")
        }
        func number(_ text: Substring) throws(JobError) -> Int {
            if let value = Int(text) {
                guard range.contains(value) else { throw invalid("has \(value), outside \(range.lowerBound)-\(range.upperBound)") }
                return value
            }
            if let index = names.firstIndex(of: text.uppercased()) { return index + firstName }
            throw invalid("has \(String(text).debugDescription), which is not a number")
        }
        var result = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else { throw invalid("is not valid") }
            var step = 1
            if pieces.count == 2 {
                guard let value = Int(pieces[1]), value > 0 else { throw invalid("has a step that is not a positive number") }
                step = value
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else if let dash = pieces[0].firstIndex(of: "-") {
                let low = try number(pieces[0][..<dash])
                let high = try number(pieces[0][pieces[0].index(after: dash)...])
                guard low <= high else { throw invalid("has a range that runs backwards") }
                bounds = low...high
            } else {
                let value = try number(pieces[0])
                bounds = pieces.count == 2 ? value...range.upperBound : value...value
            }
            result.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return Array(result)
    }
}

extension Duration {
    /// Reads a duration as configuration files write it: whole numbers with units, largest first, such as
    /// `500ms`, `30s`, `5m`, `1h30m` or `2d`.
    public static func parse(_ text: String) throws(JobError) -> Duration {
        let units: [(suffix: String, milliseconds: Int64)] = [
            ("ms", 1), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000),
        ]
        var rest = Substring(text.trimmingWhitespace)
        guard !rest.isEmpty else { throw JobError(.invalidOptions, "a duration must not be empty: write it like 30s, 5m or 1h30m") }
        var total: Int64 = 0
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard let number = Int64(digits), let unit = units.first(where: { rest.dropFirst(digits.count).hasPrefix($0.suffix) }) else {
                throw JobError(.invalidOptions, "\(text.debugDescription) is not a duration like 500ms, 30s, 5m or 1h30m")
            }
            let (product, overflow) = number.multipliedReportingOverflow(by: unit.milliseconds)
            guard !overflow, total <= Int64.max - product else { throw JobError(.invalidOptions, "the duration \(text.debugDescription) is too long") }
            total += product
            rest = rest.dropFirst(digits.count + unit.suffix.count)
        }
        return .milliseconds(total)
    }
}

extension String {
    fileprivate var trimmingWhitespace: Substring {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}

import BackgroundJobsDomain
import Foundation
import PropertyBased
import Testing

/// Property-based tests of the domain's validation and of decoding its values from JSON: for random input,
/// a value is accepted exactly when a plain restatement of the rule (an oracle) says so, and whatever is
/// accepted survives a trip through JSON unchanged.
@Suite("Domain validation and JSON decoding, by property")
struct DomainPropertyTests {
    static func characters(_ text: String) -> Generator<Character, Shrink.Integer<Int>> {
        let alphabet = Array(text)
        return Gen.int(in: 0...(alphabet.count - 1)).map { alphabet[$0] }
    }

    /// Any character: ASCII with control characters, the rest of the BMP around the surrogates, the planes above.
    static let anyCharacter = Gen.oneOf(
        Gen.character(in: "\u{0}"..."\u{7F}"), Gen.character(in: "\u{80}"..."\u{D7FF}"), Gen.character(in: "\u{E000}"..."\u{10FFFF}"))

    static let queueAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
    static let crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyz"

    /// Strings that are often near the rule's edges: made of allowed characters, of anything, or of both.
    static func strings(allowed: String, length: ClosedRange<Int>) -> Generator<String, AnySequence<(index: Int, value: Any)>> {
        Gen.oneOf(
            characters(allowed).string(of: length).map { $0 as String },
            anyCharacter.string(of: length).map { $0 as String },
            Gen.oneOf(characters(allowed).map { $0 as Character }, anyCharacter.map { $0 as Character }).string(of: length).map { $0 as String })
    }

    static func decode<Value: Decodable>(_ type: Value.Type, fromJSONString text: String) -> Value? {
        guard let data = try? JSONEncoder().encode([text]) else { return nil }
        return (try? JSONDecoder().decode([Value].self, from: data))?.first
    }

    @Test("a queue name is accepted exactly when it is 1 to 64 of A-Z a-z 0-9 _ . -, and JSON decoding applies the same rule")
    func queueNames() async {
        await propertyCheck(count: 500, input: Self.strings(allowed: Self.queueAlphabet, length: 0...70)) { text in
            let oracle = !text.isEmpty && text.utf8.count <= 64 && text.unicodeScalars.allSatisfy { Self.queueAlphabet.unicodeScalars.contains($0) }
            let made = try? QueueName(text)
            #expect((made != nil) == oracle)
            let decoded = Self.decode(QueueName.self, fromJSONString: text)
            #expect(decoded == made)
            if let made { #expect(made.rawValue == text) }
        }
    }

    @Test("a job name is accepted exactly when it is 1 to 128 bytes without white space or control characters")
    func jobNames() async {
        await propertyCheck(count: 500, input: Self.strings(allowed: Self.queueAlphabet + ":/@", length: 0...140)) { text in
            let oracle = !text.isEmpty && text.utf8.count <= 128
                && text.unicodeScalars.allSatisfy { !$0.properties.isWhitespace && $0.value >= 0x20 && $0.value != 0x7F }
            let made = try? JobName(text)
            #expect((made != nil) == oracle)
            #expect(Self.decode(JobName.self, fromJSONString: text) == made)
        }
    }

    @Test("a worker id is accepted exactly when it is 1 to 128 of A-Z a-z 0-9 _ - . @")
    func workerIDs() async {
        await propertyCheck(count: 500, input: Self.strings(allowed: Self.queueAlphabet + "@", length: 0...140)) { text in
            let allowed = Self.queueAlphabet + "@"
            let oracle = !text.isEmpty && text.utf8.count <= 128 && text.unicodeScalars.allSatisfy { allowed.unicodeScalars.contains($0) }
            #expect(((try? WorkerID(text)) != nil) == oracle)
        }
    }

    @Test("a job id is 26 Crockford base-32 characters, starting at most with 7, in either case; JSON decoding agrees")
    func jobIDText() async {
        await propertyCheck(count: 500, input: Self.strings(allowed: Self.crockford, length: 24...28)) { text in
            let upper = text.uppercased()
            let oracle = upper.utf8.count == 26 && upper.unicodeScalars.allSatisfy { Self.crockford.unicodeScalars.contains($0) }
                && (upper.first.map { $0 <= "7" } ?? false)
            let made = try? JobID(text)
            #expect((made != nil) == oracle)
            #expect(Self.decode(JobID.self, fromJSONString: text) == made)
            if let made { #expect(made.rawValue == upper) }
        }
    }

    @Test("a generated job id parses back as itself, keeps its time to the millisecond, and sorts by that time")
    func generatedJobIDs() async {
        let times = Gen.int64(in: 0...(Int64(1) << 47)).map { Date(timeIntervalSince1970: Double($0) / 1000) }
        await propertyCheck(count: 300, input: times, times) { first, second in
            let a = JobID.generate(at: first)
            let b = JobID.generate(at: second)
            #expect(try JobID(a.rawValue) == a)
            #expect(try JobID(a.rawValue.lowercased()) == a)
            #expect(abs(a.createdAt.timeIntervalSince1970 - first.timeIntervalSince1970) < 0.001)
            let millisecondsA = (first.timeIntervalSince1970 * 1000).rounded()
            let millisecondsB = (second.timeIntervalSince1970 * 1000).rounded()
            if millisecondsA < millisecondsB { #expect(a < b) }
            if millisecondsA > millisecondsB { #expect(a > b) }
            let data = try JSONEncoder().encode(a)
            #expect(try JSONDecoder().decode(JobID.self, from: data) == a)
        }
    }

    @Test("a duration written as numbers with units reads as their sum; text with anything else is refused")
    func durations() async {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        let part = zip(Gen.int64(in: 0...100_000), Gen.int(in: 0...(units.count - 1)))
        await propertyCheck(count: 300, input: part.array(of: 1...4)) { parts in
            let text = parts.map { "\($0.0)\(units[$0.1].0)" }.joined()
            let expected = parts.reduce(Int64(0)) { $0 + $1.0 * units[$1.1].1 }
            #expect((try? Duration.parse(text)) == .milliseconds(expected))
            #expect((try? Duration.parse(" \(text) ")) == .milliseconds(expected))
        }
        await propertyCheck(count: 300, input: Self.strings(allowed: "0123456789msdh", length: 0...12)) { text in
            // Space around the value goes, line breaks too (an environment variable's trailing newline).
            let trimmed = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
            // The oracle: a sequence of (digits, unit) pairs, nothing else.
            var rest = Substring(trimmed)
            var wellFormed = !rest.isEmpty
            while wellFormed && !rest.isEmpty {
                let digits = rest.prefix { $0.isASCII && $0.isNumber }
                rest = rest.dropFirst(digits.count)
                guard !digits.isEmpty, digits.count <= 18, let unit = ["ms", "d", "h", "m", "s"].first(where: { rest.hasPrefix($0) }) else {
                    wellFormed = false
                    break
                }
                rest = rest.dropFirst(unit.count)
            }
            let parsed = try? Duration.parse(text)
            if !wellFormed { #expect(parsed == nil, "\(text.debugDescription) should be refused") }
            if wellFormed, trimmed.count <= 10 { #expect(parsed != nil, "\(text.debugDescription) should read") }
        }
    }

    @Test("options are valid exactly when every rule holds")
    func options() async {
        let seconds = Gen.int64(in: -5...5)
        let maybe = Gen.bool
        let input = zip(seconds, maybe, maybe, Gen.int(in: -3...1003), seconds, Gen.int(in: 0...300), seconds, maybe)
        await propertyCheck(count: 800, input: input) { delay, hasDelay, hasRunAt, retries, timeout, keyLength, uniqueFor, hasUniqueFor in
            var options = JobOptions()
            if hasDelay { options.delay = .seconds(delay) }
            if hasRunAt { options.scheduledAt = Date(timeIntervalSince1970: 1_000_000) }
            options.maxRetries = retries == -3 ? nil : retries
            options.timeout = timeout == -5 ? nil : .seconds(timeout)
            options.uniqueKey = keyLength == 0 ? nil : String(repeating: "k", count: keyLength - 1)
            if hasUniqueFor { options.uniqueFor = .seconds(uniqueFor) }
            var oracle = true
            if hasDelay && delay < 0 { oracle = false }
            if hasDelay && hasRunAt { oracle = false }
            if let retries = options.maxRetries, retries < 0 || retries > 1000 { oracle = false }
            if let timeout = options.timeout, timeout <= .zero { oracle = false }
            if let key = options.uniqueKey, key.isEmpty || key.utf8.count > 256 { oracle = false }
            if hasUniqueFor && uniqueFor <= 0 { oracle = false }
            if hasUniqueFor && options.uniqueKey == nil { oracle = false }
            #expect(((try? options.validate()) != nil) == oracle)
        }
    }

    @Test("priorities and statuses decode from JSON exactly from their names, and encode back to them")
    func enumsFromJSON() async {
        let names = JobPriority.allCases.map(\.rawValue) + JobStatus.allCases.map(\.rawValue)
        let input = Gen.oneOf(Gen.int(in: 0...(names.count - 1)).map { names[$0] }, Self.strings(allowed: "abcdefghijklmnopqrstuvwxyz", length: 0...12).map { $0 as String })
        await propertyCheck(count: 500, input: input) { text in
            let priority = Self.decode(JobPriority.self, fromJSONString: text)
            #expect(priority == JobPriority(rawValue: text))
            let status = Self.decode(JobStatus.self, fromJSONString: text)
            #expect(status == JobStatus(rawValue: text))
            if let status {
                #expect((try? JSONEncoder().encode(status)).map { String(decoding: $0, as: UTF8.self) } == "\"\(text)\"")
            }
        }
    }

    @Test("a random walk through the state machine only takes allowed steps; finished jobs only leave dead, to pending")
    func stateMachine() async {
        let steps = Gen.int(in: 0...(JobStatus.allCases.count - 1)).array(of: 1...30)
        await propertyCheck(count: 500, input: steps) { choices in
            var status = JobStatus.pending
            for choice in choices {
                let next = JobStatus.allCases[choice]
                let allowed = status.allowedSuccessors.contains(next)
                let result = try? status.transition(to: next)
                #expect((result != nil) == allowed)
                if status.isFinished && allowed { #expect(status == .dead && next == .pending) }
                if let result { status = result }
            }
        }
    }

    @Test("a retry delay is never negative nor above the maximum, and the nominal delays never shrink")
    func retryDelays() async {
        let input = zip(Gen.int(in: 0...60_000), Gen.int(in: 0...120_000), Gen.int(in: 10...40), Gen.int(in: 0...100), Gen.int(in: 1...40))
        await propertyCheck(count: 300, input: input) { initial, extra, factorTenths, jitterPercent, retry in
            let policy = RetryPolicy.exponential(
                initialDelay: .milliseconds(initial), factor: Double(factorTenths) / 10, maxDelay: .milliseconds(initial + extra), maxRetries: 5,
                jitter: Double(jitterPercent) / 100)
            #expect((try? policy.validate()) != nil)
            var generator = SystemRandomNumberGenerator()
            let delay = policy.delay(forRetry: retry, using: &generator)
            #expect(delay >= .zero)
            #expect(delay <= policy.maxDelay)
            #expect(policy.nominalDelay(forRetry: retry) <= policy.nominalDelay(forRetry: retry + 1))
        }
    }

    @Test("a payload is accepted exactly up to the limit")
    func payloadLimit() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...2048), Gen.int(in: 0...2048)) { size, limit in
            let accepted = (try? JobPayload.validate([UInt8](repeating: 0x20, count: size), limit: limit)) != nil
            #expect(accepted == (size <= limit))
        }
    }
}

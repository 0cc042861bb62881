#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A job's id: 26 characters that sort in creation order (a ULID).
///
/// The first 10 characters encode the creation time in milliseconds, the other 16 are random, in
/// Crockford's base 32 (no I, L, O or U). Ids made in the same millisecond are unique but unordered.
public struct JobID: ValidatedString {
    /// The id as text.
    public let rawValue: String

    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// An id for a job created at `date`.
    public static func generate(at date: Date) -> JobID {
        var generator = IDRandomGenerator()
        return generate(at: date, using: &generator)
    }

    /// An id for a job created at `date`, with the random part drawn from `generator`.
    public static func generate(at date: Date, using generator: inout some RandomNumberGenerator) -> JobID {
        let milliseconds = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded()))
        var characters = [UInt8](repeating: 0, count: 26)
        for index in 0..<10 {
            characters[index] = alphabet[Int((milliseconds >> UInt64(45 - index * 5)) & 31)]
        }
        let random = (generator.next() as UInt64, UInt64(generator.next() as UInt16))
        // 80 random bits: 64 from the first word, 16 from the second.
        for index in 0..<16 {
            let bit = index * 5
            let value: UInt64
            if bit + 5 <= 64 {
                value = (random.0 >> UInt64(59 - bit)) & 31
            } else if bit >= 64 {
                value = (random.1 >> UInt64(11 - (bit - 64))) & 31
            } else {
                value = ((random.0 << UInt64(bit + 5 - 64)) | (random.1 >> UInt64(16 - (bit + 5 - 64)))) & 31
            }
            characters[10 + index] = alphabet[Int(value)]
        }
        return JobID(unchecked: String(decoding: characters, as: UTF8.self))
    }

    /// Parses an id, accepting lowercase; anything that is not 26 base-32 characters is an error.
    public init(_ text: String) throws(JobError) {
        let upper = text.uppercased()
        guard upper.utf8.count == 26, upper.utf8.allSatisfy({ Self.alphabet.contains($0) }),
            let first = upper.utf8.first, first <= UInt8(ascii: "7")
        else {
            throw JobError(.invalidJobID, "\"\(text.prefix(40))\" is not a job id (26 characters of Crockford base 32)")
        }
        self.rawValue = upper
    }

    private init(unchecked rawValue: String) { self.rawValue = rawValue }

    /// When the id was made, to the millisecond.
    public var createdAt: Date {
        var milliseconds: UInt64 = 0
        for byte in rawValue.utf8.prefix(10) {
            milliseconds = milliseconds << 5 | UInt64(Self.alphabet.firstIndex(of: byte) ?? 0)
        }
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

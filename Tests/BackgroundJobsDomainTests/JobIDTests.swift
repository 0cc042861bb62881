import BackgroundJobsDomain
import Foundation
import Testing

@Suite("Job ids")
struct JobIDTests {
    @Test("ids are 26 base-32 characters that parse back to themselves")
    func format() throws {
        let id = JobID.generate(at: Date())
        #expect(id.rawValue.count == 26)
        #expect(try JobID(id.rawValue) == id)
        #expect(try JobID(id.rawValue.lowercased()) == id)
    }

    @Test("ids sort by creation time, to the millisecond")
    func sortable() {
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        let ids = (0..<1000).map { JobID.generate(at: start.addingTimeInterval(Double($0) / 1000)) }
        #expect(ids.sorted() == ids, "ids of later milliseconds sort later")
        #expect(abs(ids[500].createdAt.timeIntervalSince(start.addingTimeInterval(0.5))) < 0.001)
    }

    @Test("ids made in the same millisecond differ")
    func unique() {
        let now = Date()
        let ids = Set((0..<10_000).map { _ in JobID.generate(at: now) })
        #expect(ids.count == 10_000)
    }

    @Test("the random part comes from the generator", arguments: [UInt64(0), 1, .max])
    func randomPart(seed: UInt64) {
        var generator = FixedGenerator(value: seed)
        let id = JobID.generate(at: Date(timeIntervalSince1970: 0), using: &generator)
        #expect(id.rawValue.prefix(10) == "0000000000")
        // 80 random bits: the 64-bit word, then its low 16 bits again; for 1 that is bit 16 and bit 0.
        let expectedTail = seed == 0 ? "0000000000000000" : seed == .max ? "ZZZZZZZZZZZZZZZZ" : "0000000000002001"
        #expect(String(id.rawValue.suffix(16)) == expectedTail)
    }

    @Test("text that is not an id is refused", arguments: ["", "short", "01ARZ3NDEKTSV4RRFFQ69G5FAVX", "01ARZ3NDEKTSV4RRFFQ69G5FAU", "81ARZ3NDEKTSV4RRFFQ69G5FAV"])
    func invalid(text: String) {
        let error = #expect(throws: JobError.self) { try JobID(text) }
        #expect(error?.code == .invalidJobID)
    }
}

/// Returns the same word every time, so the random part of an id is known.
struct FixedGenerator: RandomNumberGenerator {
    let value: UInt64
    mutating func next() -> UInt64 { value }
}

import BackgroundJobsCore
import BackgroundJobsDomain
import Testing

@Suite("Queue selection")
struct QueueSelectionTests {
    /// A seeded generator, so the draws are the same on every run.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("strict order is the order given, every time")
    func strict() throws {
        let selection = try QueueSelection.strict(["critical", "default", "low"])
        var generator = SplitMix64(state: 1)
        for _ in 0..<10 { #expect(selection.nextOrder(using: &generator) == ["critical", "default", "low"]) }
    }

    @Test("weighted order puts each queue first in proportion to its weight, and lists every queue once")
    func weighted() throws {
        let selection = try QueueSelection.weighted([("mail", 6), ("reports", 3), ("cleanup", 1)])
        var generator = SplitMix64(state: 42)
        var first: [QueueName: Int] = [:]
        for _ in 0..<10_000 {
            let order = selection.nextOrder(using: &generator)
            #expect(order.count == 3 && Set(order) == ["mail", "reports", "cleanup"])
            first[order[0], default: 0] += 1
        }
        #expect((5_800...6_200).contains(first["mail"] ?? 0))
        #expect((2_800...3_200).contains(first["reports"] ?? 0))
        #expect((850...1_150).contains(first["cleanup"] ?? 0))
    }

    @Test("an empty list, a queue listed twice and a weight below one are refused")
    func refused() {
        #expect(throws: JobError.self) { try QueueSelection.strict([]) }
        #expect(throws: JobError.self) { try QueueSelection.strict(["a", "a"]) }
        #expect(throws: JobError.self) { try QueueSelection.weighted([("a", 0)]) }
    }
}

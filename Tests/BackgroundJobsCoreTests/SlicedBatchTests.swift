import BackgroundJobsCore
import Synchronization
import Testing

@Suite("Sliced batches")
struct SlicedBatchTests {
    @Test("answers come in item order whatever order the slices end in, with no more slices under way than allowed")
    func orderAndBound() async throws {
        let running = Atomic<Int>(0)
        let most = Atomic<Int>(0)
        let prepared = Mutex<[Range<Int>]>([])
        let answers = try await mapSlices(of: 1_003, size: 10, inFlight: 3) { range in
            prepared.withLock { $0.append(range) }
            return range
        } run: { range in
            let now = running.add(1, ordering: .relaxed).newValue
            most.max(now, ordering: .relaxed)
            // Later slices end sooner, so joining in completion order would scramble the answers.
            try await Task.sleep(for: .milliseconds(UInt64(1 + (1_003 - range.lowerBound) / 100)))
            running.subtract(1, ordering: .relaxed)
            return Array(range)
        }
        #expect(answers == Array(0..<1_003))
        #expect(most.load(ordering: .relaxed) <= 3)
        #expect(most.load(ordering: .relaxed) > 1, "slices ran side by side")
        let ranges = prepared.withLock { $0 }
        #expect(ranges.count == 101)
        #expect(ranges.last == 1_000..<1_003)
    }

    @Test("an empty batch runs nothing; an error of a slice is the whole call's")
    func emptyAndError() async throws {
        let none: [Int] = try await mapSlices(of: 0, size: 10, inFlight: 2) { _ in Issue.record("prepared"); return 0 } run: { _ in [1] }
        #expect(none.isEmpty)
        struct Broken: Error {}
        await #expect(throws: Broken.self) {
            _ = try await mapSlices(of: 50, size: 10, inFlight: 2) { $0 } run: { range -> [Int] in
                if range.lowerBound == 20 { throw Broken() }
                return Array(range)
            }
        }
    }
}

/// Runs a batch of `count` items a slice of `size` at a time, with up to `inFlight` slices under way, and
/// joins their answers in item order: a batch's service and a queue adapter both hand work on this way, so
/// that the next slice is made while the ones before it are stored.
///
/// `prepare` runs on the caller's task, one slice after another, and `run` in a child task of its own.
package func mapSlices<Prepared: Sendable, Answer: Sendable>(
    of count: Int, size: Int, inFlight: Int,
    prepare: (Range<Int>) throws -> Prepared,
    run: @escaping @Sendable (Prepared) async throws -> [Answer]
) async throws -> [Answer] {
    precondition(size > 0 && inFlight > 0, "a slice holds one item at least, and one is under way at least")
    let starts = Array(stride(from: 0, to: count, by: size))
    var answers = [[Answer]](repeating: [], count: starts.count)
    try await withThrowingTaskGroup(of: (Int, [Answer]).self) { group in
        for (index, start) in starts.enumerated() {
            if index >= inFlight, let (done, slice) = try await group.next() { answers[done] = slice }
            let prepared = try prepare(start..<min(start + size, count))
            group.addTask { (index, try await run(prepared)) }
        }
        for try await (done, slice) in group { answers[done] = slice }
    }
    return answers.flatMap { $0 }
}

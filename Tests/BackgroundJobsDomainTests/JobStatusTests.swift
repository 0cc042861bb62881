import BackgroundJobsDomain
import Testing

@Suite("Job status state machine")
struct JobStatusTests {
    /// Every allowed change, written out by hand so the test does not repeat the implementation's table.
    static let allowed: Set<String> = [
        "pending→processing", "pending→cancelled",
        "scheduled→pending", "scheduled→cancelled",
        "processing→completed", "processing→failed", "processing→dead", "processing→cancelled", "processing→pending",
        "failed→pending", "failed→cancelled",
        "dead→pending",
    ]

    static let allPairs: [(JobStatus, JobStatus)] = JobStatus.allCases.flatMap { from in JobStatus.allCases.map { (from, $0) } }

    @Test("every one of the 49 status pairs is allowed or refused as designed", arguments: allPairs)
    func pair(from: JobStatus, to: JobStatus) {
        let expected = Self.allowed.contains("\(from.rawValue)→\(to.rawValue)")
        #expect(from.canTransition(to: to) == expected)
        if expected {
            #expect(throws: Never.self) { try from.transition(to: to) }
        } else {
            let error = #expect(throws: JobError.self) { try from.transition(to: to) }
            #expect(error?.code == .illegalTransition)
            #expect(error?.message == "a \(from.rawValue) job cannot become \(to.rawValue)")
        }
    }

    @Test("completed and cancelled are final; dead only goes back to pending")
    func finalStates() {
        #expect(JobStatus.completed.allowedSuccessors.isEmpty)
        #expect(JobStatus.cancelled.allowedSuccessors.isEmpty)
        #expect(JobStatus.dead.allowedSuccessors == [.pending])
        #expect(JobStatus.allCases.filter(\.isFinished) == [.completed, .dead, .cancelled])
    }
}

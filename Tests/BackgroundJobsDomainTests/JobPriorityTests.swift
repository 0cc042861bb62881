import BackgroundJobsDomain
import Testing

@Suite("Job priority")
struct JobPriorityTests {
    @Test("priorities order low < normal < high < critical")
    func order() {
        #expect(JobPriority.allCases.sorted() == [.low, .normal, .high, .critical])
        #expect(JobPriority.mostUrgentFirst == [.critical, .high, .normal, .low])
    }
}

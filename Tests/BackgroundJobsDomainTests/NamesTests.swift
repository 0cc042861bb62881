import BackgroundJobsDomain
import Foundation
import Testing

@Suite("Queue and job names")
struct NamesTests {
    @Test("queue names of letters, digits, _ - and . are accepted", arguments: ["default", "email", "file_processing", "v2.reports-eu", String(repeating: "q", count: 64)])
    func validQueue(name: String) throws {
        #expect(try QueueName(name).rawValue == name)
    }

    @Test("queue names that could break a Redis key are refused", arguments: ["", "a:b", "{jobs}", "with space", "ünï", "a*", String(repeating: "q", count: 65)])
    func invalidQueue(name: String) {
        let error = #expect(throws: JobError.self) { try QueueName(name) }
        #expect(error?.code == .invalidQueueName)
    }

    @Test("job names accept any printable text without white space", arguments: ["email", "Billing::Invoice", "reports.daily", "rapport_été"])
    func validJobName(name: String) throws {
        #expect(try JobName(name).rawValue == name)
    }

    @Test("empty, long, spaced or control-character job names are refused", arguments: ["", "send email", "tab\there", "nul\u{0}", String(repeating: "n", count: 129)])
    func invalidJobName(name: String) {
        let error = #expect(throws: JobError.self) { try JobName(name) }
        #expect(error?.code == .invalidJobName)
    }

    @Test("names decode with the same rules")
    func decoding() throws {
        #expect(try JSONDecoder().decode(QueueName.self, from: Data("\"email\"".utf8)) == "email")
        #expect(throws: JobError.self) { try JSONDecoder().decode(QueueName.self, from: Data("\"a:b\"".utf8)) }
    }
}
